// The resolve hook of record-loads.mjs (it runs on the loader thread): one line per ESM resolution.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(file, `import ${specifier} -> ${result.url}\n`);
  return result;
}
