import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../harness/node.ts';

/**
 * `topology/` is pure data and functions (01-topology.md): the loader, the validator and placement are used by
 * `mware validate`, by the node and by tests, so nothing in them may reach for the runtime's logger.
 */

const TOPOLOGY = join(PROJECT_ROOT, 'topology');
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The project files a source file imports (type-only imports included: they are a dependency too). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)]
    .map((m) => m[1] ?? m[2] ?? '')
    .filter((s) => s.startsWith('.'))
    .map((s) => resolve(dirname(file), s));
}

/** Every project file reachable from `start` through relative imports, with the chain that reaches it. */
function reachable(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const next of relativeImports(file)) {
      if (seen.has(next)) continue;
      seen.set(next, [...(seen.get(file) ?? []), next]);
      queue.push(next);
    }
  }
  return seen;
}

describe('the topology layer', () => {
  const files = readdirSync(TOPOLOGY)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(TOPOLOGY, f));

  it('has files to check, and sees their imports', () => {
    assert.ok(files.length >= 10, `only ${files.length} files`);
    assert.ok(reachable(join(TOPOLOGY, 'load.ts')).has(join(TOPOLOGY, 'validate.ts')));
  });

  it('imports nothing from src/log/, directly or through another module', () => {
    const chains = files.flatMap((f) =>
      [...reachable(f)].filter(([dep]) => dep.startsWith(join(PROJECT_ROOT, 'src/log/'))).map(([, c]) => c),
    );
    assert.deepEqual(
      chains.map((c) => c.map((f) => relative(PROJECT_ROOT, f)).join(' → ')),
      [],
      'topology/ must not depend on the logger',
    );
  });
});
