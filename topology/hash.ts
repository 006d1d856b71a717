/**
 * Rendezvous (highest-random-weight) hashing: each key goes to the candidate with the highest score, so adding a
 * candidate moves only the keys it wins and removing one moves only the keys it held.
 */

/** 32-bit FNV-1a over UTF-16 code units, finished with murmur3's fmix32 for avalanche. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The candidate with the highest score for `key`; ties go to the lower candidate. Undefined when none. */
export function rendezvous(key: string, candidates: readonly number[]): number | undefined {
  let best: number | undefined;
  let bestScore = -1;
  for (const c of candidates) {
    const score = hash32(`${c}\u0000${key}`);
    if (score > bestScore || (score === bestScore && best !== undefined && c < best)) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
