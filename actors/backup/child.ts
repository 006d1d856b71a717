import { spawn } from 'node:child_process';
import type { ChildOutput } from '../../src/child-output.ts';
import { eachLine } from '../../src/process-lines.ts';

/** A local program a run starts (rsync, zip), with its deadline and where its output lines go. */
export interface ChildRun {
  program: string;
  args: string[];
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to its stdin, which is then closed (none: stdin is /dev/null). */
  stdin?: string | Buffer;
  /** Its output lines as records (src/child-output.ts). */
  output?: ChildOutput;
  /**
   * Takes every stdout line instead of the log (a file list, say, which would only fill it); stderr is still
   * logged.
   */
  onStdoutLine?: (line: string) => void;
  /** How {@link onStdoutLine} gets its lines: `latin1` keeps file names that are not UTF-8 byte for byte. */
  stdoutEncoding?: 'utf8' | 'latin1';
  /** Aborted (the controller is stopping): the program is killed at once. */
  signal?: AbortSignal;
}

/**
 * Runs a program to its end and resolves with the end of its stdout (its last 20,000 characters). It runs in a
 * process group of its own, killed whole when the deadline passes or `signal` aborts (rsync's ssh, say, goes with
 * it). A non-zero
 * exit rejects with the program's last three stderr lines (its last stdout lines when it wrote none there, as zip
 * does), which name the file or the host at fault; they never hold a secret, since none is ever on a command
 * line.
 */
export function runChild(c: ChildRun): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(c.program, c.args, {
      ...(c.env && { env: c.env }),
      ...(c.cwd !== undefined && { cwd: c.cwd }),
      stdio: [c.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    const stderr: string[] = [];
    const lastOut: string[] = [];
    // Every line goes to the node's log as a record of its own (bounded per run); the pipes are read to the end.
    const onLine = c.onStdoutLine;
    if (onLine) eachLine(child.stdout, onLine, c.stdoutEncoding);
    else
      eachLine(child.stdout, (l) => {
        stdout = `${stdout}${l}\n`.slice(-20_000);
        lastOut.push(l);
        if (lastOut.length > 3) lastOut.shift();
        c.output?.line('stdout', l);
      });
    eachLine(child.stderr, (l) => {
      stderr.push(l);
      if (stderr.length > 3) stderr.shift();
      c.output?.line('stderr', l);
    });
    if (c.stdin !== undefined && child.stdin) {
      // A child that exits before reading all of it (a bad argument) must not crash the node with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(c.stdin);
    }
    const kill = (why: string) => {
      try {
        // No pid: it never started (and -0 would be our own process group).
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`${c.program} ${why}; killed`));
    };
    const timer = setTimeout(() => kill(`did not finish within ${c.timeoutMs} ms`), c.timeoutMs);
    const onAbort = () => kill('stopped: the backup controller is stopping');
    if (c.signal?.aborted) onAbort();
    else c.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      c.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (err) => {
      done();
      reject(new Error(`cannot start ${c.program}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      done();
      c.output?.end();
      if (code === 0) resolve(stdout);
      else {
        // zip says what went wrong on stdout, rsync on stderr.
        const why = (stderr.some(Boolean) ? stderr : lastOut).filter(Boolean).join(' / ');
        reject(new Error(`${c.program} exited with ${code ?? signal}: ${why}`));
      }
    });
  });
}
