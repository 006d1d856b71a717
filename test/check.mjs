#!/usr/bin/env node
// The static checks of `npm test` — the type check, eslint and prettier — run side by side (they are
// independent, and the suite's time budget is tight); each one's output is printed whole once it ends, and the run
// fails if any of them does. Usage: node test/check.mjs
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const CHECKS = [
  ['typecheck', bin('tsc'), ['--noEmit']],
  ['eslint', bin('eslint'), ['.']],
  ['prettier', bin('prettier'), ['--check', '.']],
];

const results = await Promise.all(
  CHECKS.map(
    ([name, cmd, args]) =>
      new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c) => (out += c));
        child.stderr.on('data', (c) => (out += c));
        child.on('error', (err) =>
          resolve({ name, code: 1, out: `cannot run ${cmd}: ${err.message}\n`, ms: 0 }),
        );
        child.on('close', (code) => resolve({ name, code: code ?? 1, out, ms: Date.now() - started }));
      }),
  ),
);
for (const r of results) {
  console.log(
    `> ${r.name}: ${r.code === 0 ? 'ok' : `failed (exit ${r.code})`} in ${(r.ms / 1000).toFixed(1)} s`,
  );
  if (r.out.trim()) console.log(r.out.trimEnd());
}
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
