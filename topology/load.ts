import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Document, Node as YamlNode } from 'yaml';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { scrubber } from '../src/redaction.ts';
import type { PathSegment, Problem } from './problems.ts';
import { ProblemList } from './problems.ts';
import type { Topology } from './schema.ts';
import type { SecretSources } from './secrets.ts';
import { processSecretSources, resolveSecrets } from './secrets.ts';
import { validateDocument } from './validate.ts';

/**
 * Loading a topology file: read, parse (YAML or JSON — JSON is YAML), resolve `${env:…}`/`${file:…}`, validate,
 * and give every problem the line and column of the value it is about.
 */

export interface LoadedTopology {
  ok: true;
  file: string;
  topology: Topology;
  /** Resolved secret values, for scrubbing logs. */
  secrets: ReadonlySet<string>;
}

export interface InvalidTopology {
  ok: false;
  file: string;
  problems: Problem[];
}

export type LoadResult = LoadedTopology | InvalidTopology;

export function loadTopologyFile(file: string, sources?: SecretSources): LoadResult {
  const full = resolve(file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      ok: false,
      file: full,
      problems: [{ path: '', message: `cannot read the topology file (${code})` }],
    };
  }
  return parseTopologyText(text, full, sources ?? processSecretSources(dirname(full)));
}

export function parseTopologyText(text: string, file: string, sources: SecretSources): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e): Problem => {
      const pos = lineCounter.linePos(e.pos[0]);
      return {
        path: '',
        message: `syntax error: ${firstLine(e.message)}`,
        line: pos.line,
        column: pos.col,
      };
    });
    return { ok: false, file, problems };
  }
  if (doc.contents === null)
    return { ok: false, file, problems: [{ path: '', message: 'the file is empty' }] };

  const problems = new ProblemList();
  let raw: unknown;
  try {
    // Aliases are resolved here: one to a missing anchor, or an alias bomb, throws.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return {
      ok: false,
      file,
      problems: [{ path: '', message: `syntax error: ${firstLine((err as Error).message)}` }],
    };
  }
  const { value, secrets, unresolved } = resolveSecrets(raw, sources, problems);
  const result = validateDocument(value);
  // A value whose reference is missing is reported once, for the reference, not again for being empty.
  const all = [...problems.items, ...result.problems.filter((p) => !unresolved.has(p.path))];
  if (all.length > 0 || !result.topology) {
    // A secret used where a value is echoed back (a name, say) must not be printed with the problem.
    const scrub = scrubber(secrets);
    const located = all.map((p) => ({ ...withPosition(p, doc, lineCounter), message: scrub(p.message) }));
    return { ok: false, file, problems: sortByPosition(located) };
  }
  return { ok: true, file, topology: result.topology, secrets };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function withPosition(p: Problem, doc: Document, lc: LineCounter): Problem {
  const offset = offsetOf(doc, p.segments ?? []);
  if (offset === undefined) return p;
  const pos = lc.linePos(offset);
  return { ...p, line: pos.line, column: pos.col };
}

/** Source offset of the value at `path`, or of the key naming it, or of the nearest existing ancestor. */
function offsetOf(doc: Document, path: readonly PathSegment[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === seg);
      if (!pair) return offset;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
      // A key's own position is the best place for "unknown key"; descend only while values exist.
      if (node === null) return offset;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return offset;
      node = item;
      offset = rangeStart(item) ?? offset;
    } else return offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as YamlNode | null)?.range?.[0];
}

function sortByPosition(problems: Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
    .map((x) => x.p);
}
