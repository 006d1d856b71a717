import type { Readable } from 'node:stream';

/** Calls `fn` with each line of a child process's output stream as it arrives (the last one even without `\n`). */
export function eachLine(stream: Readable | null | undefined, fn: (line: string) => void): void {
  if (!stream) return;
  let partial = '';
  stream.setEncoding('utf8');
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
