/**
 * The domain tree: a child's name ends with its parent's name (`sales.test.rootdomain.ru` → `test.rootdomain.ru`).
 * Pure string functions; placement builds on them.
 */

/** The parent domain by name (first label removed), or undefined for a two-label name like `rootdomain.ru`. */
export function parentName(domain: string): string | undefined {
  const dot = domain.indexOf('.');
  if (dot < 0) return undefined;
  const rest = domain.slice(dot + 1);
  return rest.includes('.') ? rest : undefined;
}

/** True when `ancestor` is `domain` itself or one of its ancestors by name. */
export function isAncestorOrSelf(ancestor: string, domain: string): boolean {
  return domain === ancestor || domain.endsWith('.' + ancestor);
}

/** The most specific entry of `candidates` that is an ancestor-or-self of `domain` (longest wins). */
export function mostSpecific(domain: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const c of candidates) {
    if (isAncestorOrSelf(c, domain) && (best === undefined || c.length > best.length)) best = c;
  }
  return best;
}

/** Depth in the listed tree: 0 for a root. Used to order start-up parents first. */
export function depth(domain: string, listed: ReadonlySet<string>): number {
  let d = 0;
  for (let p = parentName(domain); p !== undefined; p = parentName(p)) if (listed.has(p)) d++;
  return d;
}

/** Roots of the listed tree: domains whose parent by name is not listed. */
export function roots(domains: readonly string[]): string[] {
  const listed = new Set(domains);
  return domains.filter((d) => {
    const p = parentName(d);
    return p === undefined || !listed.has(p);
  });
}
