// Preloaded with `node --import tsx --import ./test/support/record-loads.mjs …`: writes every module the process
// loads, one per line, to the file named by MWARE_RECORD_LOADS. Tests use it to prove what a command does NOT
// load (comedy, fastify, …). Three sources, because no single one sees everything on Node 20:
// - ESM imports, through a resolve hook (registered after tsx's, so it runs first and sees every specifier);
// - CommonJS `require`s (pino-pretty is required, comedy requires its own tree), from the require cache at exit;
// - built-ins required by CommonJS code (node:repl), from process.moduleLoadList at exit.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.MWARE_RECORD_LOADS;
if (!file) throw new Error('record-loads.mjs needs MWARE_RECORD_LOADS=<file to write the list to>');
writeFileSync(file, '');
register('./record-loads-hooks.mjs', import.meta.url, { data: { file } });

process.on('exit', () => {
  const lines = [];
  for (const path of Object.keys(createRequire(import.meta.url).cache))
    lines.push(`require ${pathToFileURL(path)}`);
  for (const entry of process.moduleLoadList) {
    const builtin = /^NativeModule (.+)$/.exec(entry)?.[1];
    if (builtin && !builtin.startsWith('internal/')) lines.push(`builtin node:${builtin}`);
  }
  appendFileSync(file, lines.map((l) => l + '\n').join(''));
});
