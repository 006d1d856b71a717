/**
 * PostgreSQL's WAL positions (`pg_lsn`, printed `X/Y`: two 32-bit halves in hex) as plain numbers of bytes. A number
 * holds positions exactly up to 2^53 bytes (8 PiB of WAL), beyond what any cluster writes between two initdbs.
 */

export function parseLsn(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) return null;
  return parseInt(m[1] as string, 16) * 2 ** 32 + parseInt(m[2] as string, 16);
}

export function formatLsn(n: number | null): string | null {
  if (n === null) return null;
  const hi = Math.floor(n / 2 ** 32);
  const lo = n - hi * 2 ** 32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}
