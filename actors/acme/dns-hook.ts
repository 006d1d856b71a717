import { spawn } from 'node:child_process';
import type { ChildOutput } from '../../src/child-output.ts';
import { eachLine } from '../../src/process-lines.ts';
import { AcmeHookFailed } from './errors.ts';

/**
 * The dns-01 hook (06-services.md "ACME"): the topology's command, run as `hook… set|clear <record> <value>` with
 * `<record>` = `_acme-challenge.<name>` (RFC 8555 §8.4). `set` must return once the TXT record is visible to the
 * CA (it waits for its DNS to publish it); `clear` removes it. Its output lines go to the node's log as records of
 * their own (src/child-output.ts: bounded per run, a noisy hook never blocks the node), through the logger, which
 * blots out the topology's secrets; a hook must not print a DNS API token of its own.
 */

export type HookAction = 'set' | 'clear';

/** Runs a hook to its end; resolves with its exit code (null: killed). Injected so tests can count calls. */
export type HookRunner = (
  argv: readonly string[],
  timeoutMs: number,
  output?: ChildOutput,
) => Promise<{ code: number | null }>;

export const runHookProcess: HookRunner = (argv, timeoutMs, output) =>
  new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd ?? '', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    // The pipes are always read (to the end), logged or not: a hook that writes a lot never stalls.
    eachLine(child.stdout, (l) => output?.line('stdout', l));
    eachLine(child.stderr, (l) => output?.line('stderr', l));
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      output?.end();
      resolve({ code });
    };
    child.once('error', () => finish(null));
    child.once('close', (code, signal) => finish(signal ? null : code));
  });

export function recordName(name: string): string {
  return `_acme-challenge.${name.replace(/^\*\./, '')}`;
}

export async function runHook(
  hook: readonly string[],
  action: HookAction,
  name: string,
  value: string,
  run: HookRunner,
  timeoutMs: number,
  output?: (action: HookAction, record: string) => ChildOutput,
): Promise<void> {
  const record = recordName(name);
  const { code } = await run([...hook, action, record, value], timeoutMs, output?.(action, record));
  if (code !== 0)
    throw new AcmeHookFailed(
      `dns-01 hook ${hook[0] ?? '?'} ${action} ${record} ${code === null ? `did not end within ${timeoutMs} ms` : `exited with ${code}`}`,
      { details: { action, record, exit: code } },
    );
}
