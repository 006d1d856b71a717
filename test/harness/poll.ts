import { HarnessError } from './errors.ts';

/**
 * Polls `fn` every `everyMs` until it holds; fails after `ms` with `what` and, when given, `detail()` (the last
 * lines of the processes involved, say). A throwing `fn` counts as "not yet": a node that is starting or gone
 * refuses connections, which is what the caller is waiting out.
 */
export async function until(
  what: string,
  fn: () => Promise<boolean>,
  o: { ms?: number; everyMs?: number; detail?: () => string } = {},
): Promise<void> {
  const ms = o.ms ?? 15_000;
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, o.everyMs ?? 50));
  }
  throw new HarnessError(`not within ${ms} ms: ${what}${o.detail ? `\n${o.detail()}` : ''}`);
}
