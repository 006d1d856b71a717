import { spawn } from 'node:child_process';
import type { ChildOutput } from '../../src/child-output.ts';
import { eachLine } from '../../src/process-lines.ts';

/**
 * Running one firing's script (06-services.md: "sending a message to the configured script runner"): a command
 * that reads the script code on stdin, or an HTTP endpoint that takes it as JSON. Each run has a deadline: a command
 * still running then is killed with its process group, an HTTP request is aborted. Only the last
 * {@link OUTPUT_TAIL} characters of the output are kept.
 */

export const OUTPUT_TAIL = 4_096;

export type RunnerConfig = { command: string[] } | { url: string; token?: string | undefined };

/** One firing on one site, as the runner receives it. */
export interface Job {
  task: string;
  name: string;
  domain: string;
  site: string;
  /** The firing's scheduled time (ms); `run-now` firings carry the time they were asked for. */
  firing_at: number;
  code: string;
  deadline_ms: number;
}

export type JobStatus = 'ok' | 'failed' | 'timeout';

export interface JobOutcome {
  status: JobStatus;
  exit_code: number | null;
  duration_ms: number;
  /** The output's tail (stdout and stderr interleaved, or the HTTP response body). */
  output: string;
  error?: string;
}

/** Keeps the last `max` characters of what is appended. */
export class Tail {
  private text = '';
  constructor(private readonly max = OUTPUT_TAIL) {}
  add(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 2 * this.max) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.slice(-this.max);
  }
}

/**
 * `node`: the mware node running it (MW_NODE for a command, `node` for an endpoint); `output`: where a command's
 * output lines go as log records (src/child-output.ts).
 */
export function runJob(
  runner: RunnerConfig,
  job: Job,
  stop?: AbortSignal,
  node = '',
  output?: ChildOutput,
): Promise<JobOutcome> {
  return 'command' in runner
    ? runCommand(runner.command, job, node, stop, output)
    : runHttp(runner, job, node, stop);
}

function runCommand(
  command: string[],
  job: Job,
  node: string,
  stop?: AbortSignal,
  output?: ChildOutput,
): Promise<JobOutcome> {
  const started = performance.now();
  const out = new Tail();
  return new Promise((resolve) => {
    const [cmd = '', ...args] = command;
    // Its own process group, so the deadline kills the script's children too.
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        MW_TASK_ID: job.task,
        MW_TASK_NAME: job.name,
        MW_TASK_DOMAIN: job.domain,
        MW_TASK_SITE: job.site,
        MW_FIRING_AT: new Date(job.firing_at).toISOString(),
        MW_NODE: node,
      },
    });
    let timedOut = false;
    let error: string | undefined;
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, job.deadline_ms);
    const onStop = () => {
      error = 'stopped with the scheduler';
      kill();
    };
    stop?.addEventListener('abort', onStop, { once: true });
    for (const s of [child.stdout, child.stderr]) {
      s.setEncoding('utf8');
      s.on('data', (c: string) => out.add(c));
    }
    if (output) {
      eachLine(child.stdout, (l) => output.line('stdout', l));
      eachLine(child.stderr, (l) => output.line('stderr', l));
    }
    child.stdin.on('error', () => undefined); // a script that does not read its stdin
    child.stdin.end(job.code);
    const finish = (code: number | null, err?: string) => {
      clearTimeout(timer);
      output?.end();
      stop?.removeEventListener('abort', onStop);
      const duration_ms = Math.round(performance.now() - started);
      const status: JobStatus = timedOut ? 'timeout' : code === 0 && !err && !error ? 'ok' : 'failed';
      const why = err ?? error ?? (timedOut ? `killed at its deadline (${job.deadline_ms} ms)` : undefined);
      resolve({
        status,
        exit_code: code,
        duration_ms,
        output: out.toString(),
        ...(why !== undefined && { error: why }),
      });
    };
    child.once('error', (e) => finish(null, `cannot start ${cmd}: ${e.message}`));
    child.once('close', (code) => finish(code));
  });
}

async function runHttp(
  runner: { url: string; token?: string | undefined },
  job: Job,
  node: string,
  stop?: AbortSignal,
): Promise<JobOutcome> {
  const started = performance.now();
  const deadline = AbortSignal.timeout(job.deadline_ms);
  const signal = stop ? AbortSignal.any([deadline, stop]) : deadline;
  const took = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(runner.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(runner.token !== undefined && { authorization: `Bearer ${runner.token}` }),
      },
      body: JSON.stringify({
        task: job.task,
        name: job.name,
        domain: job.domain,
        site: job.site,
        firing_at: new Date(job.firing_at).toISOString(),
        code: job.code,
        node,
      }),
      signal,
    });
    const tail = new Tail();
    tail.add(await res.text());
    const ok = res.status >= 200 && res.status < 300;
    return {
      status: ok ? 'ok' : 'failed',
      exit_code: res.status,
      duration_ms: took(),
      output: tail.toString(),
      ...(!ok && { error: `the runner answered HTTP ${res.status}` }),
    };
  } catch (err) {
    const timedOut = deadline.aborted;
    return {
      status: timedOut ? 'timeout' : 'failed',
      exit_code: null,
      duration_ms: took(),
      output: '',
      error: timedOut
        ? `no answer within its deadline (${job.deadline_ms} ms)`
        : `the runner could not be reached: ${(err as Error).message}`,
    };
  }
}
