import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SECRET_KEYS } from '../src/redaction.ts';
import type { PathSegment } from './problems.ts';
import { formatPath, type ProblemList } from './problems.ts';

/**
 * Secret references in topology values: `${env:NAME}` and `${file:PATH}` (PATH relative to the topology file's
 * folder unless absolute). They are resolved at load time; a missing reference is a validation problem naming
 * the field, never the value. Every resolved value is remembered so the logger can scrub it from any line, and so
 * is every value written in the file as it is where a secret belongs: a secret field (`pg_pwd`, `token`, …) and
 * the password of a URL (`redis://:pw@host`).
 */

export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): string;
  /** Folder that relative `${file:…}` paths are resolved against. */
  baseDir: string;
}

export function processSecretSources(baseDir: string): SecretSources {
  return { env: process.env, readFile: (p) => readFileSync(p, 'utf8'), baseDir };
}

const REFERENCE = /\$\{(env|file):([^}]*)\}/g;
const SECRET_FIELDS = new Set(SECRET_KEYS);
/** The password in a URL's user-info: `scheme://user:PASSWORD@host`. */
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:([^/@\s]+)@/i;

export interface ResolvedSecrets {
  value: unknown;
  /** The resolved secret values (for log scrubbing); never printed. */
  secrets: Set<string>;
  /** Paths (formatted) whose references could not be resolved; their later problems would only repeat it. */
  unresolved: Set<string>;
}

/** Replaces every reference in every string of `doc`; problems go to `problems` with the field's path. */
export function resolveSecrets(doc: unknown, sources: SecretSources, problems: ProblemList): ResolvedSecrets {
  const secrets = new Set<string>();
  const unresolved = new Set<string>();

  const resolveString = (s: string, path: PathSegment[]): string =>
    s.replace(REFERENCE, (_match, kind: string, ref: string) => {
      const value = kind === 'env' ? fromEnv(ref, path) : fromFile(ref, path);
      if (value === undefined) {
        unresolved.add(formatPath(path));
        return '';
      }
      if (value.length > 0) secrets.add(value);
      return value;
    });

  const fromEnv = (name: string, path: PathSegment[]): string | undefined => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.add(path, `\${env:${name}} is not a valid environment variable name`);
      return undefined;
    }
    const v = sources.env[name];
    if (v === undefined) problems.add(path, `references environment variable ${name}, which is not set`);
    return v;
  };

  const fromFile = (file: string, path: PathSegment[]): string | undefined => {
    if (file === '') {
      problems.add(path, '${file:} needs a path');
      return undefined;
    }
    const full = isAbsolute(file) ? file : resolve(sources.baseDir, file);
    try {
      // A trailing newline is how editors save files; it is never part of a secret.
      return sources.readFile(full).replace(/\r?\n$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.add(path, `references file ${full}, which cannot be read (${code})`);
      return undefined;
    }
  };

  const noteLiteral = (v: string, path: PathSegment[]): string => {
    const key = path.at(-1);
    if (typeof key === 'string' && SECRET_FIELDS.has(key) && v.length > 0) secrets.add(v);
    const inUrl = URL_PASSWORD.exec(v)?.[1];
    if (inUrl) secrets.add(inUrl).add(safeDecode(inUrl));
    return v;
  };

  const walk = (v: unknown, path: PathSegment[]): unknown => {
    if (typeof v === 'string') return noteLiteral(v.includes('${') ? resolveString(v, path) : v, path);
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, [...path, k]);
      return out;
    }
    return v;
  };

  return { value: walk(doc, []), secrets, unresolved };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
