import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { parseTopologyText } from '../../topology/load.ts';
import { validateDocument } from '../../topology/validate.ts';

const example = parse(
  readFileSync(new URL('../../config/topology.platform.yaml', import.meta.url), 'utf8'),
) as unknown;
const noSecrets = { env: {}, baseDir: '/', readFile: () => '' };

/** All paths into a JSON value. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [prefix, ...v.flatMap((x, i) => paths(x, [...prefix, i]))];
  if (v !== null && typeof v === 'object')
    return [prefix, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...prefix, k]))];
  return [prefix];
}

function mutate(doc: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(doc);
  if (path.length === 0) return value;
  let cur = copy as Record<string | number, unknown>;
  for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (remove && !Array.isArray(cur)) delete cur[last];
  else cur[last] = value;
  return copy;
}

function checkResult(r: { problems: { path: string; message: string }[] }) {
  for (const p of r.problems) {
    assert.equal(typeof p.path, 'string');
    assert.ok(p.message.length > 0);
  }
}

describe('the validator on fuzzed input', () => {
  it('never crashes on arbitrary documents', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4 }), (doc) => checkResult(validateDocument(doc))),
      { numRuns: 500 },
    );
  });

  it('never crashes when any value of a real topology is replaced or removed', () => {
    const all = paths(example);
    fc.assert(
      fc.property(
        fc.constantFrom(...all),
        fc.anything({ maxDepth: 2 }),
        fc.boolean(),
        (path, value, remove) => {
          checkResult(validateDocument(mutate(example, path, value, remove)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never crashes on mangled YAML text', () => {
    const text = stringify(example);
    fc.assert(
      fc.property(
        fc.nat({ max: text.length }),
        fc.nat({ max: 40 }),
        fc.string({ maxLength: 20 }),
        (at, cut, insert) => {
          const mangled = text.slice(0, at) + insert + text.slice(at + cut);
          const r = parseTopologyText(mangled, 'fuzz.yaml', noSecrets);
          if (!r.ok) checkResult(r);
        },
      ),
      { numRuns: 500 },
    );
  });
});
