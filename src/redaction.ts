/**
 * What counts as a secret, and how it is blotted out of text. Three layers need this and none of them owns it:
 * the topology loader (which values of a file are secrets to remember, and keeping them out of its problem
 * messages), the logger (redacted fields, scrubbed lines) and the API (scrubbed responses). It lives here, beside
 * `src/errors.ts`, as a module that depends on nothing, so that `topology/` stays pure data and functions: the
 * loader must not pull in the logger (and pino with it) to validate a file, and the logger must not depend on the
 * topology layer for a list that also names HTTP headers (`authorization`, `cookie`).
 */

/** Field names that hold secrets anywhere in a logged object (or in a topology file). */
export const SECRET_KEYS: readonly string[] = [
  'password',
  'pwd',
  'token',
  'secret',
  'cluster_secret',
  'ssh_pwd',
  'ssh_key',
  'pg_pwd',
  'pg_replica_pwd',
  'storage_ssh_pwd',
  'storage_ssh_key',
  'esl_password',
  'community',
  'auth_key',
  'priv_key',
  'authorization',
  'cookie',
  'privateKey',
  'private_key',
  'passphrase',
];

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Replaces every occurrence of any secret value (longest first, so a secret containing another is whole), raw or
 * JSON-escaped (as it appears inside a JSON line or response).
 */
export function secretScrubber(secrets: Iterable<string>): (s: string) => string {
  // Shorter values would blot out ordinary words and numbers all over a line.
  const list = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const forms = [...new Set(list.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
  return (text: string) => {
    let out = text;
    for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  };
}

/** For log lines and messages shown to people: every secret value, and any bearer token, known or not. */
export function scrubber(secrets: Iterable<string>): (s: string) => string {
  const values = secretScrubber(secrets);
  const bearer = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
  return (line: string) => values(line.replace(bearer, `$1${REDACTED}`));
}
