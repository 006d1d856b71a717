/**
 * When to renew and when to try again (06-services.md "ACME"), as pure functions of the certificate's times, the
 * settings, the clock and a random source.
 */

export interface Lifetime {
  notBefore: number;
  notAfter: number;
}

/**
 * `fraction` of the lifetime after notBefore, moved by up to ± `jitter` of the lifetime at random so that many
 * certificates issued together are not renewed together; never before notBefore nor after notAfter.
 */
export function renewAt(t: Lifetime, fraction: number, jitter: number, random: () => number): number {
  const life = Math.max(0, t.notAfter - t.notBefore);
  const at = t.notBefore + life * fraction + (random() * 2 - 1) * jitter * life;
  return Math.round(Math.min(t.notAfter, Math.max(t.notBefore, at)));
}

/** A time picked at random in an ARI suggested window (RFC 9773 §4.2). */
export function inWindow(start: number, end: number, random: () => number): number {
  return Math.round(start + Math.max(0, end - start) * random());
}

export interface Backoff {
  initial_s: number;
  max_s: number;
}

/** Without a `Retry-After`, a rate-limited server is left alone this long at least (bounded by `max_s`). */
export const RATE_LIMITED_MIN_MS = 3_600_000;
export const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';

/**
 * The wait after the `failures`-th failure in a row: `initial_s` doubled per failure up to `max_s`, ± 10 % at
 * random; never shorter than the server's `Retry-After`, and an hour (or `max_s`) when it said `rateLimited`
 * without one.
 */
export function retryDelayMs(
  failures: number,
  b: Backoff,
  server: { retryAfterMs: number | null; problem: string | null },
  random: () => number,
): number {
  const exp = Math.min(b.max_s * 1000, b.initial_s * 1000 * 2 ** Math.max(0, failures - 1));
  let wait = exp * (0.9 + 0.2 * random());
  if (server.problem === RATE_LIMITED && server.retryAfterMs === null)
    wait = Math.max(wait, Math.min(RATE_LIMITED_MIN_MS, b.max_s * 1000));
  return Math.round(Math.max(wait, server.retryAfterMs ?? 0));
}
