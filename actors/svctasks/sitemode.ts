import type { SvcTask } from './task.ts';

/**
 * Where one firing runs (06-services.md `sitemode`), a pure function of the task, the sites that can run tasks (in
 * the topology's order), which of them are live now, and this scheduler's own site:
 * - `all`: every site, live or not (a site that is down is recorded as `unreachable` for that firing, not skipped);
 * - `any`: one site in the whole cluster — this scheduler's own site (always live), so no firing waits on the network;
 * - `sites_all`: each listed site, live or not;
 * - `sites_any`: one live listed site — the own site when it is listed, else the first live one in the list's order;
 * - `first`: the first live site of the list, in the list's order.
 * An empty answer means no site could take the firing (recorded as `no-site`).
 */
export function targetSites(
  task: Pick<SvcTask, 'sitemode' | 'sites'>,
  known: readonly string[],
  live: ReadonlySet<string>,
  own: string,
): string[] {
  const listed = [...new Set(task.sites)];
  const up = (s: string) => s === own || live.has(s);
  switch (task.sitemode) {
    case 'all':
      return [...new Set(known)];
    case 'any':
      return [own];
    case 'sites_all':
      return listed;
    case 'sites_any': {
      if (listed.includes(own)) return [own];
      const s = listed.find(up);
      return s === undefined ? [] : [s];
    }
    case 'first': {
      const s = listed.find(up);
      return s === undefined ? [] : [s];
    }
    default: {
      const never: never = task.sitemode;
      throw new Error(`unknown sitemode ${String(never)}`);
    }
  }
}
