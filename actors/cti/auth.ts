import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The adapter's token check. Both sides are hashed first so the comparison takes the same time whatever the
 * given token's length or content (timingSafeEqual alone needs equal lengths, and comparing lengths would leak it).
 */
export function tokenAccepts(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined) return true;
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given ?? ''));
}

/** The token of an `Authorization: Bearer <token>` value. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
