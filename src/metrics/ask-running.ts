import type { Directory } from '../supervision/directory.ts';

/**
 * Asks the actor at `path` for a scrape: only if it runs on this node now, within `timeoutMs`, and never failing —
 * an actor that is absent (a passive node), restarting or slow gives undefined, so /metrics always answers.
 */
export async function askIfRunning<T>(
  directory: Directory,
  path: string,
  type: string,
  timeoutMs: number,
): Promise<T | undefined> {
  const rec = directory.get(path);
  if (rec === undefined || rec.state !== 'running') return undefined;
  try {
    return (await rec.ask(type, null, timeoutMs)) as T;
  } catch {
    return undefined;
  }
}
