import type { Readable } from 'node:stream';

/**
 * Calls `fn` with each line of a child process's output stream as it arrives (the last one even without `\n`).
 * `latin1` keeps every byte as one character, for file names that are not UTF-8.
 */
export function eachLine(
  stream: Readable | null | undefined,
  fn: (line: string) => void,
  encoding: 'utf8' | 'latin1' = 'utf8',
): void {
  if (!stream) return;
  let partial = '';
  stream.setEncoding(encoding);
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) fn(line);
  });
  stream.on('end', () => {
    if (partial) fn(partial);
    partial = '';
  });
}
