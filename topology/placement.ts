import { depth, isAncestorOrSelf, mostSpecific, roots } from './domain-tree.ts';
import { rendezvous } from './hash.ts';
import type { MwareRole, Topology } from './schema.ts';
import { mwareRoles } from './schema.ts';

/**
 * Placement (01-topology.md "Domain tree and placement"): pure functions of the topology that say which site and
 * which mware group serve a domain, which group owns a mutex key, and what a role instance hosts.
 * Every node computes the same answers from the same file.
 */

export interface GroupInfo {
  group: number;
  site: string;
  /** Enabled members, lowest `order` first (the failover order). */
  members: MwareRole[];
  include_domains: string[];
}

/** Derived lookups, built once per topology object (topologies are immutable after loading). */
interface Index {
  siteOfServer: Map<string, string>;
  /** listed subtree root → site that lists it (first one wins; duplicates are a validation error) */
  siteRoots: Map<string, string>;
  masterSite: string | undefined;
  groups: Map<number, GroupInfo>;
  groupsBySite: Map<string, GroupInfo[]>;
}

const indexes = new WeakMap<Topology, Index>();

function indexOf(t: Topology): Index {
  let ix = indexes.get(t);
  if (ix) return ix;
  const siteOfServer = new Map(t.servers.map((s) => [s.name, s.site]));
  const siteRoots = new Map<string, string>();
  for (const site of t.sites)
    for (const d of site.domains) if (!siteRoots.has(d)) siteRoots.set(d, site.name);
  const groups = new Map<number, GroupInfo>();
  for (const role of mwareRoles(t)) {
    const site = siteOfServer.get(role.server);
    if (site === undefined) continue;
    let g = groups.get(role.group);
    if (!g) {
      g = { group: role.group, site, members: [], include_domains: role.include_domains };
      groups.set(role.group, g);
    }
    g.members.push(role);
  }
  const groupsBySite = new Map<string, GroupInfo[]>();
  for (const g of [...groups.values()].sort((a, b) => a.group - b.group)) {
    g.members.sort((a, b) => a.order - b.order);
    const list = groupsBySite.get(g.site) ?? [];
    list.push(g);
    groupsBySite.set(g.site, list);
  }
  ix = { siteOfServer, siteRoots, masterSite: t.sites.find((s) => s.master)?.name, groups, groupsBySite };
  indexes.set(t, ix);
  return ix;
}

/**
 * The site serving `domain`: the one listing its most specific listed ancestor-or-self. A domain under no listed
 * subtree belongs to the master site, which serves the master (root) domain's tree.
 */
export function siteOf(t: Topology, domain: string): string | undefined {
  const ix = indexOf(t);
  const root = mostSpecific(domain, ix.siteRoots.keys());
  return root !== undefined ? ix.siteRoots.get(root) : ix.masterSite;
}

/**
 * The master (root) domain: the root of the listed tree that the master site serves; when the file is not yet
 * consistent, the root with the most descendants.
 */
export function masterDomain(t: Topology): string | undefined {
  const rs = roots(t.domains);
  const masterSite = t.sites.find((s) => s.master);
  const served = rs.find((r) => masterSite?.domains.some((d) => isAncestorOrSelf(r, d)));
  if (served !== undefined) return served;
  const descendants = (r: string) => t.domains.filter((d) => isAncestorOrSelf(r, d)).length;
  return [...rs].sort((a, b) => descendants(b) - descendants(a) || a.length - b.length)[0];
}

/** The mware groups of a site, by group number. */
export function groupsOnSite(t: Topology, site: string): GroupInfo[] {
  return indexOf(t).groupsBySite.get(site) ?? [];
}

export function groupInfo(t: Topology, group: number): GroupInfo | undefined {
  return indexOf(t).groups.get(group);
}

/** The site's catch-all group: the one with empty `include_domains` (validation allows at most one). */
export function catchAllGroup(t: Topology, site: string): GroupInfo | undefined {
  return groupsOnSite(t, site).find((g) => g.include_domains.length === 0);
}

/**
 * The mware group serving `domain`: inside its site, the group whose `include_domains` holds the domain's most
 * specific listed ancestor-or-self; otherwise the site's catch-all group.
 */
export function groupOf(t: Topology, domain: string): number | undefined {
  const site = siteOf(t, domain);
  if (site === undefined) return undefined;
  const groups = groupsOnSite(t, site);
  let best: { entry: string; group: number } | undefined;
  for (const g of groups) {
    const entry = mostSpecific(domain, g.include_domains);
    if (entry !== undefined && (best === undefined || entry.length > best.entry.length))
      best = { entry, group: g.group };
  }
  return best?.group ?? catchAllGroup(t, site)?.group;
}

/**
 * The group owning a mutex key on a site: rendezvous hashing of the key over the site's group numbers, so adding a
 * group moves only the keys it wins. Keys are site-wide, not bound to a domain.
 */
export function groupOfMutexKey(t: Topology, site: string, key: string): number | undefined {
  return rendezvous(
    key,
    groupsOnSite(t, site).map((g) => g.group),
  );
}

/** The domains a group serves, parents before children. */
export function domainsOfGroup(t: Topology, group: number): string[] {
  const listed = new Set(t.domains);
  return t.domains
    .filter((d) => groupOf(t, d) === group)
    .map((d) => ({ d, depth: depth(d, listed) }))
    .sort((a, b) => a.depth - b.depth || a.d.localeCompare(b.d))
    .map((x) => x.d);
}

export interface Placement {
  role: MwareRole;
  site: string;
  server: string;
  /** The address of the role's internal interface: every listener binds here. */
  address: string;
  /** The server's interface aliases and their addresses (a service listener may name another one). */
  ifaces: Readonly<Record<string, string>>;
  group: number;
  /** Group members in failover order (lowest `order` first). */
  members: MwareRole[];
  /** This instance's position among the group's members in failover order (0 = first). */
  rank: number;
  /** Domains this group serves, parents first. */
  domains: string[];
  /** Groups among which the site's mutex keys are split. */
  mutexGroups: number[];
  master: boolean;
}

/** Everything a role instance derives from the file: where it runs, its group, what it serves. */
export function placementFor(t: Topology, roleName: string): Placement | undefined {
  const role = mwareRoles(t).find((r) => r.name === roleName);
  if (!role) return undefined;
  const ix = indexOf(t);
  const site = ix.siteOfServer.get(role.server);
  const server = t.servers.find((s) => s.name === role.server);
  const address = server?.ifaces[role.iface];
  const g = ix.groups.get(role.group);
  if (site === undefined || address === undefined || !g) return undefined;
  return {
    role,
    site,
    server: role.server,
    address,
    ifaces: server?.ifaces ?? {},
    group: role.group,
    members: g.members,
    rank: g.members.indexOf(role),
    domains: domainsOfGroup(t, role.group),
    mutexGroups: groupsOnSite(t, site).map((x) => x.group),
    master: site === ix.masterSite,
  };
}

/**
 * Which member of a group should be active, given who is alive: at cold start the live member with the lowest
 * order; after that the current active keeps leadership unless `ext.failback` is set (no flapping).
 */
export function electActive(
  members: readonly MwareRole[],
  live: ReadonlySet<string>,
  current: string | undefined,
): string | undefined {
  const ordered = [...members].sort((a, b) => a.order - b.order);
  const first = ordered.find((m) => live.has(m.name));
  if (current === undefined || !live.has(current)) return first?.name;
  // The member that would take leadership back decides, by its own `ext.failback`.
  const failback = first !== undefined && !Array.isArray(first.ext) && first.ext.failback === true;
  return failback ? first.name : current;
}

/** The port of a role instance's node channel: `channel.port`, or the one after its API port. */
export function channelPort(role: MwareRole): number {
  return role.channel?.port ?? role.api.port + 1;
}

/** Where every enabled mware instance of the file listens for the node channel, by name. */
export function channelAddresses(t: Topology): Map<string, { host: string; port: number }> {
  const out = new Map<string, { host: string; port: number }>();
  for (const r of mwareRoles(t)) {
    const host = t.servers.find((s) => s.name === r.server)?.ifaces[r.iface];
    if (host !== undefined) out.set(r.name, { host, port: channelPort(r) });
  }
  return out;
}
