import { execFile } from 'node:child_process';
import { AcmeHookFailed } from './errors.ts';

/**
 * The dns-01 hook (06-services.md "ACME"): the topology's command, run as `hook… set|clear <record> <value>` with
 * `<record>` = `_acme-challenge.<name>` (RFC 8555 §8.4). `set` must return once the TXT record is visible to the
 * CA (it waits for its DNS to publish it); `clear` removes it. Its output is not kept: a DNS API's answer may
 * carry a token.
 */

export type HookAction = 'set' | 'clear';

/** Runs a hook to its end; resolves with its exit code (null: killed). Injected so tests can count calls. */
export type HookRunner = (argv: readonly string[], timeoutMs: number) => Promise<{ code: number | null }>;

export const runHookProcess: HookRunner = (argv, timeoutMs) =>
  new Promise((resolve) => {
    const [cmd, ...args] = argv;
    execFile(cmd ?? '', args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err) => {
      if (!err) return resolve({ code: 0 });
      const code = (err as { code?: unknown }).code;
      resolve({ code: typeof code === 'number' ? code : null });
    });
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
): Promise<void> {
  const record = recordName(name);
  const { code } = await run([...hook, action, record, value], timeoutMs);
  if (code !== 0)
    throw new AcmeHookFailed(
      `dns-01 hook ${hook[0] ?? '?'} ${action} ${record} ${code === null ? `did not end within ${timeoutMs} ms` : `exited with ${code}`}`,
      { details: { action, record, exit: code } },
    );
}
