import { z } from 'zod';
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
import { domainName } from './primitives.ts';

/**
 * Schema validation that reports every problem: zod collects all issues across the document, and each array
 * element is also parsed on its own so the cross-reference rules can run over the elements that are valid.
 */

const Document = Topology.extend({ roles: z.array(z.unknown()) });

export interface ValidationResult {
  topology?: Topology;
  problems: Problem[];
}

/** Validates a parsed (and secret-resolved) document. */
export function validateDocument(doc: unknown): ValidationResult {
  const problems = new ProblemList();
  const top = Document.safeParse(doc, { reportInput: true });
  if (!top.success) for (const issue of top.error.issues) addIssue(problems, [], issue);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { problems: problems.items };

  const raw = doc as Record<string, unknown>;
  const roles: Topology['roles'] = [];
  const input: RuleInput = {
    topology: undefined as unknown as Topology,
    index: { sites: [], servers: [], roles: [], domains: [] },
    broken: { sites: new Set(), servers: new Set(), roles: new Set(), coordination: false },
  };
  (Array.isArray(raw.roles) ? raw.roles : []).forEach((r, i) => {
    const parsed = parseRole(r);
    if (parsed.success) {
      roles.push(parsed.data);
      input.index.roles.push(i);
    } else {
      for (const issue of parsed.error.issues) addIssue(problems, ['roles', i], issue);
      const name = (r as { name?: unknown } | null)?.name;
      if (typeof name === 'string') input.broken.roles.add(name);
    }
  });
  if (!problems.empty) {
    // Run the rules over what is valid, so one broken element does not hide problems elsewhere.
    const sites = keepValid(raw.sites, Site, input.index.sites, input.broken.sites);
    const servers = keepValid(raw.servers, Server, input.index.servers, input.broken.servers);
    const domains = keepValid(raw.domains, domainName, input.index.domains, new Set());
    const coordination = Coordination.safeParse(raw.coordination);
    input.broken.coordination = raw.coordination !== undefined && !coordination.success;
    const security = Security.safeParse(raw.security ?? {});
    input.topology = {
      cluster: typeof raw.cluster === 'string' ? raw.cluster : 'cluster',
      coordination: coordination.success ? coordination.data : undefined,
      security: security.success ? security.data : { api_tokens: [] },
      sites,
      servers,
      roles,
      domains,
    };
    return { problems: [...problems.items, ...checkRules(input).items] };
  }

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

/** Disabled instances are not validated; mware instances in full; other roletypes by their common fields. */
function parseRole(r: unknown) {
  const o = r as { enabled?: unknown; roletype?: unknown } | null;
  if (o !== null && typeof o === 'object' && o.enabled === false)
    return DisabledRole.safeParse(r, { reportInput: true });
  if (o !== null && typeof o === 'object' && o.roletype === 'mware')
    return MwareRole.safeParse(r, { reportInput: true });
  return OtherRole.safeParse(r, { reportInput: true });
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

const article = (t: string): string =>
  ({
    object: 'an object',
    array: 'a list',
    number: 'a number',
    int: 'a whole number',
    string: 'a string',
    boolean: 'true or false',
  })[t] ?? t;

/** Every key any object in the schema knows, for "did you mean" on an unknown key. */
const KNOWN_KEYS: string[] = (() => {
  const keys = new Set<string>();
  const visit = (s: z.ZodType, depth: number): void => {
    if (depth > 12) return;
    const def = (s as unknown as { def: Record<string, unknown> }).def;
    if (!def) return;
    if (def.type === 'object') {
      for (const [k, v] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        keys.add(k);
        visit(v, depth + 1);
      }
    }
    for (const key of ['innerType', 'element', 'in', 'out', 'valueType'] as const) {
      const inner = def[key];
      if (inner) visit(inner as z.ZodType, depth + 1);
    }
    for (const key of ['options', 'items'] as const) {
      const list = def[key];
      if (Array.isArray(list)) for (const o of list) visit(o as z.ZodType, depth + 1);
    }
  };
  visit(Topology, 0);
  visit(MwareRole, 0);
  return [...keys];
})();

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

function suggestion(key: string): string {
  let best: string | undefined;
  let bestD = 3;
  for (const k of KNOWN_KEYS) {
    const d = distance(key.toLowerCase(), k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== undefined ? ` (did you mean "${best}"?)` : '';
}

function addIssue(problems: ProblemList, prefix: PathSegment[], issue: z.core.$ZodIssue): void {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys)
        problems.add(
          [...path, key],
          `unknown key${suggestion(key)}: not part of the schema (free-form options go in ext)`,
        );
      return;
    case 'invalid_union': {
      // Report the branch the input came closest to, when one branch clearly matched its shape.
      const branches = issue.errors.filter(
        (b) => !b.some((i) => i.code === 'invalid_type' && i.path.length === 0),
      );
      const best = branches.sort((a, b) => a.length - b.length)[0];
      if (best && best.length > 0 && !issue.message.startsWith('Invalid input')) {
        problems.add(path, issue.message);
      } else if (best && best.length > 0) {
        for (const inner of best) addIssue(problems, path, inner);
      } else
        problems.add(
          path,
          issue.message === 'Invalid input' ? 'does not match any allowed form' : issue.message,
        );
      return;
    }
    case 'invalid_type':
      if (issue.input === undefined) problems.add(path, 'is required');
      else problems.add(path, `must be ${article(issue.expected)}, not ${typeName(issue.input)}`);
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
      problems.add(
        path,
        issue.message.startsWith('Too small')
          ? issue.origin === 'array'
            ? `needs at least ${issue.minimum} item(s)`
            : issue.origin === 'string'
              ? `must be at least ${issue.minimum} characters`
              : `must be at least ${issue.minimum} (got ${show(issue.input)})`
          : issue.message,
      );
      return;
    case 'too_big':
      problems.add(
        path,
        issue.message.startsWith('Too big')
          ? issue.origin === 'array'
            ? `takes at most ${issue.maximum} item(s)`
            : issue.origin === 'string'
              ? `must be at most ${issue.maximum} characters`
              : `must be at most ${issue.maximum} (got ${show(issue.input)})`
          : issue.message,
      );
      return;
    case 'invalid_format':
    case 'not_multiple_of':
    case 'invalid_key':
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
