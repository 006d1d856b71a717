import { z } from 'zod';
import { domainName } from './primitives.ts';
import type { PathSegment, Problem } from './problems.ts';
import { ProblemList } from './problems.ts';
import type { RuleInput } from './rules.ts';
import { checkRules } from './rules.ts';
import {
  Coordination,
  DisabledRole,
  MwareRole,
  OtherRole,
  Security,
  Server,
  Site,
  Topology,
} from './schema.ts';

/**
 * Schema validation that reports every problem: zod collects all issues across the document, and each array
 * element is also parsed on its own so the cross-reference rules run over every element that is valid — and
 * over a role with a broken optional field, with that field left out.
 */

const Document = Topology.extend({ roles: z.array(z.unknown()) });

/** Role fields that may be left out (they have defaults) so the rest of a broken role can still be checked. */
const OPTIONAL_ROLE_FIELDS = new Set([
  'ext',
  'include_domains',
  'state_mode',
  'api',
  'pg_controller',
  'backup_controller',
  'freeswitch',
  'cti_adapters',
]);

export interface ValidationResult {
  topology?: Topology;
  problems: Problem[];
}

/** Validates a parsed (and secret-resolved) document. */
export function validateDocument(doc: unknown): ValidationResult {
  const problems = new ProblemList();
  const top = Document.safeParse(doc, { reportInput: true });
  if (!top.success) for (const issue of top.error.issues) addIssue(problems, [], issue, Topology);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { problems: problems.items };

  const raw = doc as Record<string, unknown>;
  const roles: Topology['roles'] = [];
  const input: RuleInput = {
    topology: undefined as unknown as Topology,
    index: { sites: [], servers: [], roles: [], domains: [] },
    broken: {
      sites: new Set(),
      servers: new Set(),
      roles: new Set(),
      ifaces: new Map(),
      coordination: false,
    },
    repaired: new Map(),
  };
  (Array.isArray(raw.roles) ? raw.roles : []).forEach((r, i) => {
    const parsed = parseRole(r);
    if (parsed.success) {
      roles.push(parsed.data);
      input.index.roles.push(i);
      return;
    }
    for (const issue of parsed.error.issues) addIssue(problems, ['roles', i], issue, schemaOfRole(r));
    const repaired = repairRole(r, parsed.error.issues);
    if (repaired) {
      roles.push(repaired.role);
      input.index.roles.push(i);
      input.repaired.set(i, repaired.removed);
    } else {
      // Only a broken mware instance leaves the set of groups incomplete.
      const o = r as { name?: unknown; roletype?: unknown } | null;
      if (o?.roletype === 'mware') input.broken.roles.add(typeof o.name === 'string' ? o.name : `#${i}`);
    }
  });

  if (top.success && problems.empty) {
    const topology = { ...(top.data as Omit<Topology, 'roles'>), roles };
    input.topology = topology;
    input.index = {
      sites: topology.sites.map((_, i) => i),
      servers: topology.servers.map((_, i) => i),
      roles: input.index.roles,
      domains: topology.domains.map((_, i) => i),
    };
    const ruleProblems = checkRules(input).items;
    return ruleProblems.length === 0 ? { topology, problems: [] } : { problems: ruleProblems };
  }

  // Run the rules over what is valid, so one broken element does not hide problems elsewhere.
  const coordination = Coordination.safeParse(raw.coordination);
  input.broken.coordination = raw.coordination !== undefined && !coordination.success;
  const security = Security.safeParse(raw.security ?? {});
  input.topology = {
    cluster: typeof raw.cluster === 'string' ? raw.cluster : 'cluster',
    coordination: coordination.success ? coordination.data : undefined,
    security: security.success ? security.data : { api_tokens: [] },
    sites: keepValid(raw.sites, Site, input.index.sites, input.broken.sites),
    servers: keepServers(raw.servers, input),
    roles,
    domains: keepValid(raw.domains, domainName, input.index.domains, new Set()),
  };
  return { problems: [...problems.items, ...checkRules(input).items] };
}

/** Disabled instances are not validated; mware instances in full; other roletypes by their common fields. */
function schemaOfRole(r: unknown): z.ZodType {
  const o = r as { enabled?: unknown; roletype?: unknown } | null;
  if (o !== null && typeof o === 'object' && o.enabled === false) return DisabledRole;
  if (o !== null && typeof o === 'object' && o.roletype === 'mware') return MwareRole;
  return OtherRole;
}

function parseRole(r: unknown) {
  return (schemaOfRole(r) as typeof MwareRole).safeParse(r, { reportInput: true });
}

/** The role with its broken optional fields (and unknown keys) left out, if that makes it valid. */
function repairRole(
  r: unknown,
  issues: readonly z.core.$ZodIssue[],
): { role: Topology['roles'][number]; removed: Set<string> } | undefined {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return undefined;
  const copy: Record<string, unknown> = { ...(r as Record<string, unknown>) };
  const removed = new Set<string>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
      for (const k of issue.keys) delete copy[k];
      continue;
    }
    const field = issue.path[0];
    if (typeof field !== 'string' || !OPTIONAL_ROLE_FIELDS.has(field)) return undefined;
    delete copy[field];
    removed.add(field);
  }
  const again = parseRole(copy);
  return again.success ? { role: again.data, removed } : undefined;
}

/**
 * The servers that pass the schema, and those whose only problems are interfaces (a bad address or alias), kept
 * with those interfaces left out: such a server is still on its site, and its roles still count there.
 */
function keepServers(raw: unknown, input: RuleInput): Topology['servers'] {
  if (!Array.isArray(raw)) return [];
  const out: Topology['servers'] = [];
  raw.forEach((item, i) => {
    const parsed = Server.safeParse(item);
    const repaired = parsed.success ? undefined : repairServer(item, parsed.error.issues);
    const server = parsed.success ? parsed.data : repaired?.server;
    if (server) {
      out.push(server);
      input.index.servers.push(i);
      if (repaired) input.broken.ifaces.set(server.name, repaired.removed);
      return;
    }
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name === 'string') input.broken.servers.add(name);
  });
  return out;
}

function repairServer(
  item: unknown,
  issues: readonly z.core.$ZodIssue[],
): { server: Topology['servers'][number]; removed: Set<string> } | undefined {
  const ifaces = (item as { ifaces?: unknown } | null)?.ifaces;
  if (ifaces === null || typeof ifaces !== 'object' || Array.isArray(ifaces)) return undefined;
  const kept: Record<string, unknown> = { ...ifaces };
  const removed = new Set<string>();
  for (const issue of issues) {
    const [field, alias] = issue.path;
    if (field !== 'ifaces' || typeof alias !== 'string' || issue.path.length !== 2) return undefined;
    delete kept[alias];
    removed.add(alias);
  }
  const again = Server.safeParse({ ...(item as object), ifaces: kept });
  return again.success ? { server: again.data, removed } : undefined;
}

function keepValid<T>(raw: unknown, schema: z.ZodType<T>, index: number[], broken: Set<string>): T[] {
  if (!Array.isArray(raw)) return [];
  const out: T[] = [];
  raw.forEach((item, i) => {
    const r = schema.safeParse(item);
    if (r.success) {
      out.push(r.data);
      index.push(i);
    } else {
      const name = (item as { name?: unknown } | null)?.name;
      if (typeof name === 'string') broken.add(name);
    }
  });
  return out;
}

// --------------------------------------------------------------------------------------- issues as sentences

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

const typeName = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${show(v)}`;

const ARTICLES: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
};

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  items?: z.ZodType[];
  in?: z.ZodType;
}

const defOf = (s: z.ZodType): ZodDef => (s as unknown as { def: ZodDef }).def;

/** The keys an object at `path` of `schema` may have (through optional, default, arrays and unions). */
function keysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let candidates: z.ZodType[] = [schema];
  const unwrap = (s: z.ZodType): z.ZodType[] => {
    const d = defOf(s);
    if (d.innerType) return unwrap(d.innerType);
    if (d.in) return unwrap(d.in);
    if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
    return [s];
  };
  for (const seg of path) {
    candidates = candidates.flatMap(unwrap).flatMap((s) => {
      const d = defOf(s);
      if (typeof seg === 'number') return d.element ? [d.element] : d.items?.[seg] ? [d.items[seg]] : [];
      const next = d.shape?.[seg];
      return next ? [next] : [];
    });
  }
  return candidates.flatMap(unwrap).flatMap((s) => Object.keys(defOf(s).shape ?? {}));
}

/** Optimal string alignment distance: a swapped pair of letters counts as one edit. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Math.min(3, Math.max(1, Math.floor(key.length / 3)) + 1);
  for (const k of known) {
    const d = distance(key.toLowerCase(), k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== undefined ? ` (did you mean "${best}"?)` : '';
}

function addIssue(
  problems: ProblemList,
  prefix: PathSegment[],
  issue: z.core.$ZodIssue,
  schema: z.ZodType,
): void {
  const local = issue.path as PathSegment[];
  const path = [...prefix, ...local];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = keysAt(schema, local);
      for (const key of issue.keys)
        problems.add(
          [...path, key],
          `unknown key${suggestion(key, known)}: not part of the schema (free-form options go in ext)`,
        );
      return;
    }
    case 'invalid_union': {
      // Report the branch the input came closest to, when one branch clearly matched its shape.
      const branches = issue.errors.filter(
        (b) => !b.some((i) => i.code === 'invalid_type' && i.path.length === 0),
      );
      const best = [...branches].sort((a, b) => a.length - b.length)[0];
      if (issue.message !== 'Invalid input') problems.add(path, issue.message);
      else if (best && best.length > 0)
        for (const inner of best) addIssue(problems, path, { ...inner, path: inner.path }, z.unknown());
      else problems.add(path, 'does not match any allowed form');
      return;
    }
    case 'invalid_type':
      if (issue.input === undefined) problems.add(path, 'is required');
      else
        problems.add(
          path,
          `must be ${ARTICLES[issue.expected] ?? issue.expected}, not ${typeName(issue.input)}`,
        );
      return;
    case 'invalid_value':
      problems.add(
        path,
        issue.message.startsWith('Invalid')
          ? `must be one of ${issue.values.map((v) => show(v)).join(', ')} (got ${show(issue.input)})`
          : issue.message,
      );
      return;
    case 'too_small':
      if (!issue.message.startsWith('Too small')) problems.add(path, issue.message);
      else if (issue.origin === 'array') problems.add(path, `needs at least ${issue.minimum} item(s)`);
      else if (issue.origin === 'string') problems.add(path, `must be at least ${issue.minimum} characters`);
      else problems.add(path, `must be at least ${issue.minimum} (got ${show(issue.input)})`);
      return;
    case 'too_big':
      if (!issue.message.startsWith('Too big')) problems.add(path, issue.message);
      else if (issue.origin === 'array') problems.add(path, `takes at most ${issue.maximum} item(s)`);
      else if (issue.origin === 'string') problems.add(path, `must be at most ${issue.maximum} characters`);
      else problems.add(path, `must be at most ${issue.maximum} (got ${show(issue.input)})`);
      return;
    case 'invalid_key':
      // A record key's own schema says what is wrong with it; zod's outer message only says "Invalid key".
      problems.add(path, issue.issues.map((i) => i.message).join('; ') || issue.message);
      return;
    case 'invalid_format':
    case 'not_multiple_of':
    case 'invalid_element':
    case 'custom':
      problems.add(path, issue.message);
      return;
    default: {
      const exhaustive: never = issue;
      problems.add(path, (exhaustive as { message: string }).message);
    }
  }
}
