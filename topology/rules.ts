import { isDeepStrictEqual } from 'node:util';
import { isAncestorOrSelf, mostSpecific, parentName, roots } from './domain-tree.ts';
import { catchAllGroup, groupsOnSite, masterDomain, siteOf } from './placement.ts';
import type { PathSegment } from './problems.ts';
import { ProblemList } from './problems.ts';
import type { MwareRole, Topology } from './schema.ts';
import {
  CTI_ADAPTER_KEYS,
  GROUP_LEVEL_FIELDS,
  isMwareRole,
  PG_SERVER_REQUIRED,
  STORAGE_REQUIRED,
} from './schema.ts';

/**
 * Cross-reference rules (01-topology.md "Validation") run over the elements that passed the schema. Each rule
 * reports every problem it finds with the element's path in the original file.
 */

export interface RuleInput {
  /** The file with elements that failed the schema left out. */
  topology: Topology;
  /** Original index in the file of each kept element. */
  index: { sites: number[]; servers: number[]; roles: number[]; domains: number[] };
  /** Names of elements that failed the schema: references to them are not reported a second time. */
  broken: {
    sites: Set<string>;
    servers: Set<string>;
    roles: Set<string>;
    /** Interface aliases left out of a server kept without them (server name → aliases). */
    ifaces: Map<string, ReadonlySet<string>>;
    coordination: boolean;
  };
  /**
   * Fields left out of roles that failed the schema (original role index → fields): checks that compare them
   * would only repeat the schema problem.
   */
  repaired: Map<number, Set<string>>;
}

export function checkRules(input: RuleInput): ProblemList {
  const p = new ProblemList();
  const ctx = new RuleContext(input, p);
  uniqueNames(ctx);
  references(ctx);
  groups(ctx);
  domainTree(ctx);
  domainPlacement(ctx);
  controllers(ctx);
  securityAndCoordination(ctx);
  syslogSnmp(ctx);
  monitors(ctx);
  telegram(ctx);
  acme(ctx);
  svcTasks(ctx);
  listeners(ctx);
  return p;
}

class RuleContext {
  readonly t: Topology;
  readonly mware: { role: MwareRole; at: PathSegment[] }[];

  constructor(
    readonly input: RuleInput,
    readonly p: ProblemList,
  ) {
    this.t = input.topology;
    this.mware = [];
    this.t.roles.forEach((role, i) => {
      if (isMwareRole(role)) this.mware.push({ role, at: ['roles', input.index.roles[i] ?? i] });
    });
  }

  site(i: number): PathSegment[] {
    return ['sites', this.input.index.sites[i] ?? i];
  }
  server(i: number): PathSegment[] {
    return ['servers', this.input.index.servers[i] ?? i];
  }
  domain(i: number): PathSegment[] {
    return ['domains', this.input.index.domains[i] ?? i];
  }
  serverOf(role: MwareRole) {
    return this.t.servers.find((s) => s.name === role.server);
  }
  siteOfRole(role: MwareRole): string | undefined {
    return this.serverOf(role)?.site;
  }
  /** The server's interface `alias` was left out for a schema problem: a reference to it would repeat that. */
  isBrokenIface(server: string, alias: string): boolean {
    return this.input.broken.ifaces.get(server)?.has(alias) ?? false;
  }
  isRepaired(at: PathSegment[], field: string): boolean {
    return this.input.repaired.get(at[1] as number)?.has(field) ?? false;
  }
  /** Every mware role passed the schema, so the set of groups is complete. */
  get rolesComplete(): boolean {
    return (
      this.input.broken.roles.size === 0 &&
      ![...this.input.repaired.values()].some((f) => f.has('include_domains'))
    );
  }
}

function duplicates<T>(
  items: readonly T[],
  key: (t: T) => string,
  report: (i: number, firstIndex: number) => void,
) {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else report(i, first);
  });
}

function uniqueNames(c: RuleContext): void {
  const { t, p } = c;
  duplicates(
    t.sites,
    (s) => s.name,
    (i) => p.add([...c.site(i), 'name'], `site name "${t.sites[i]?.name}" is used twice`),
  );
  duplicates(
    t.servers,
    (s) => s.name,
    (i) => p.add([...c.server(i), 'name'], `server name "${t.servers[i]?.name}" is used twice`),
  );
  duplicates(
    t.roles,
    (r) => r.name,
    (i) =>
      p.add(
        ['roles', c.input.index.roles[i] ?? i, 'name'],
        `role instance name "${t.roles[i]?.name}" is used twice`,
      ),
  );
  duplicates(
    t.domains,
    (d) => d,
    (i) => p.add(c.domain(i), `domain "${t.domains[i]}" is listed twice`),
  );
}

function references(c: RuleContext): void {
  const { t, p } = c;
  const sites = new Set(t.sites.map((s) => s.name));
  t.servers.forEach((s, i) => {
    if (!sites.has(s.site) && !c.input.broken.sites.has(s.site))
      p.add([...c.server(i), 'site'], `site "${s.site}" is not defined in sites`);
  });
  const domains = new Set(t.domains);
  for (const { role, at } of c.mware) {
    const server = c.serverOf(role);
    if (!server) {
      if (!c.input.broken.servers.has(role.server))
        p.add([...at, 'server'], `server "${role.server}" is not defined in servers`);
    } else if (server.ifaces[role.iface] === undefined && !c.isBrokenIface(server.name, role.iface)) {
      const known = Object.keys(server.ifaces).join(', ') || 'none';
      p.add([...at, 'iface'], `server "${server.name}" has no interface "${role.iface}" (it has: ${known})`);
    }
    role.include_domains.forEach((d, j) => {
      if (!domains.has(d)) p.add([...at, 'include_domains', j], `domain "${d}" is not listed in domains`);
    });
  }
  t.sites.forEach((s, i) =>
    s.domains.forEach((d, j) => {
      if (!domains.has(d)) p.add([...c.site(i), 'domains', j], `domain "${d}" is not listed in domains`);
    }),
  );
}

function groups(c: RuleContext): void {
  const { p } = c;
  const byGroup = new Map<number, { role: MwareRole; at: PathSegment[] }[]>();
  for (const m of c.mware) byGroup.set(m.role.group, [...(byGroup.get(m.role.group) ?? []), m]);
  for (const [group, members] of byGroup) {
    const first = members[0];
    if (!first) continue;
    duplicates(
      members,
      (m) => String(m.role.order),
      (i, j) => {
        const m = members[i];
        if (m)
          p.add(
            [...m.at, 'order'],
            `group ${group} already has an instance with order ${m.role.order} (${members[j]?.role.name})`,
          );
      },
    );
    const site = c.siteOfRole(first.role);
    for (const m of members.slice(1)) {
      const s = c.siteOfRole(m.role);
      if (site !== undefined && s !== undefined && s !== site)
        p.add(
          [...m.at, 'server'],
          `group ${group} spans two sites (${first.role.name} is on "${site}", ${m.role.name} on "${s}"); a group's members are on one site`,
        );
      for (const field of GROUP_LEVEL_FIELDS) {
        if (c.isRepaired(first.at, field) || c.isRepaired(m.at, field)) continue;
        const a = field === 'include_domains' ? [...first.role.include_domains].sort() : first.role[field];
        const b = field === 'include_domains' ? [...m.role.include_domains].sort() : m.role[field];
        if (!isDeepStrictEqual(a, b))
          p.add(
            [...m.at, field],
            `differs from ${first.role.name} in group ${group}; group-level settings must be identical on every member`,
          );
      }
    }
  }
}

function domainTree(c: RuleContext): void {
  const { t, p } = c;
  const rs = roots(t.domains);
  if (rs.length <= 1) return;
  // Every root but the master domain is a domain whose parent is missing, or one outside the tree.
  const master = masterDomain(t) ?? '';
  t.domains.forEach((d, i) => {
    if (d === master || !rs.includes(d)) return;
    if (isAncestorOrSelf(master, d)) p.add(c.domain(i), `parent domain "${parentName(d)}" is not listed`);
    else
      p.add(
        c.domain(i),
        `is not in the tree of the master domain "${master}": every domain descends from one master domain`,
      );
  });
}

function domainPlacement(c: RuleContext): void {
  const { t, p } = c;
  const masters = t.sites.map((s, i) => ({ s, i })).filter((x) => x.s.master);
  if (masters.length === 0) p.add('sites', 'no master site: exactly one site must have master: true');
  for (const extra of masters.slice(1))
    p.add([...c.site(extra.i), 'master'], `a second master site ("${masters[0]?.s.name}" is already master)`);
  const master = masterDomain(t);

  // A subtree root listed by two sites would be served on both.
  const listedBy = new Map<string, string>();
  t.sites.forEach((s, i) =>
    s.domains.forEach((d, j) => {
      const other = listedBy.get(d);
      if (other !== undefined)
        p.add([...c.site(i), 'domains', j], `domain "${d}" is already served on site "${other}"`);
      else listedBy.set(d, s.name);
      if (d === master && !s.master)
        p.add([...c.site(i), 'domains', j], `the master domain "${d}" can only be served on the master site`);
    }),
  );

  // Inside each site: every served domain has exactly one group.
  const siteNames = new Set(t.sites.map((s) => s.name));
  for (const site of siteNames) {
    const siteGroups = groupsOnSite(t, site);
    const catchAlls = siteGroups.filter((g) => g.include_domains.length === 0);
    for (const extra of catchAlls.slice(1)) {
      const m = c.mware.find((x) => x.role.group === extra.group);
      if (m)
        p.add(
          [...m.at, 'include_domains'],
          `site "${site}" already has a catch-all group (${catchAlls[0]?.group}); give group ${extra.group} include_domains`,
        );
    }
    const included = new Map<string, number>();
    for (const g of siteGroups) {
      const m = c.mware.find((x) => x.role.group === g.group);
      if (!m) continue;
      g.include_domains.forEach((d, j) => {
        const owner = included.get(d);
        if (owner !== undefined)
          p.add(
            [...m.at, 'include_domains', j],
            `domain "${d}" is already included by group ${owner} on site "${site}"`,
          );
        else included.set(d, g.group);
        const served = siteOf(t, d);
        if (t.domains.includes(d) && served !== undefined && served !== site)
          p.add(
            [...m.at, 'include_domains', j],
            `domain "${d}" is served on site "${served}", not on this group's site "${site}"`,
          );
      });
    }
  }

  // With a role left out for schema problems the groups are incomplete: coverage cannot be judged.
  if (!c.rolesComplete) return;
  t.domains.forEach((d, i) => {
    const site = siteOf(t, d);
    if (site === undefined) return; // no master site: reported above
    const siteGroups = groupsOnSite(t, site);
    if (siteGroups.length === 0) {
      p.add(c.domain(i), `is served on site "${site}", which has no enabled mware instance`);
      return;
    }
    const covered = siteGroups.some((g) => mostSpecific(d, g.include_domains) !== undefined);
    if (!covered && catchAllGroup(t, site) === undefined)
      p.add(
        c.domain(i),
        `no mware group on site "${site}" serves it: include it in a group's include_domains or leave one group's include_domains empty (catch-all)`,
      );
  });
}

function missingKeys(obj: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((k) => obj[k] === undefined || obj[k] === '');
}

function controllers(c: RuleContext): void {
  const { p } = c;
  // Group-level settings are identical across members, so checking each member would repeat every message.
  const seenGroups = new Set<number>();
  for (const { role, at } of c.mware) {
    if (seenGroups.has(role.group)) continue;
    seenGroups.add(role.group);
    duplicates(
      role.pg_controller,
      (k) => k.key,
      (i) =>
        p.add(
          [...at, 'pg_controller', i, 'key'],
          `cluster key "${role.pg_controller[i]?.key}" is used twice`,
        ),
    );
    role.pg_controller.forEach((cluster, i) => {
      cluster.servers.forEach((server, j) => {
        const merged: Record<string, unknown> = { ...cluster, ...stripUndefined(server) };
        for (const key of missingKeys(merged, PG_SERVER_REQUIRED))
          p.add(
            [...at, 'pg_controller', i, 'servers', j, key],
            `is required (give it on the server or on the cluster)`,
          );
        if (merged.ssh_pwd === undefined && merged.ssh_key === undefined && merged.ssh_key_file === undefined)
          p.add(
            [...at, 'pg_controller', i, 'servers', j, 'ssh_pwd'],
            'needs SSH credentials: ssh_pwd, ssh_key or ssh_key_file (on the server or on the cluster)',
          );
      });
    });
    const backup = role.backup_controller;
    if (backup) {
      const top = stripUndefined(backup);
      backup.pgdb.forEach((entry, i) => {
        const merged = { ...top, ...stripUndefined(entry) };
        for (const key of missingKeys(merged, STORAGE_REQUIRED))
          p.add(
            [...at, 'backup_controller', 'pgdb', i, key],
            'is required (give it here or at the top of backup_controller)',
          );
        if (entry.ssh_pwd === undefined && entry.ssh_key === undefined && entry.ssh_key_file === undefined)
          p.add(
            [...at, 'backup_controller', 'pgdb', i, 'ssh_pwd'],
            'needs SSH credentials: ssh_pwd, ssh_key or ssh_key_file',
          );
      });
      if (backup.sync_folder) {
        const merged = { ...top, ...stripUndefined(backup.sync_folder) };
        for (const key of missingKeys(merged, STORAGE_REQUIRED))
          p.add(
            [...at, 'backup_controller', 'sync_folder', key],
            'is required (give it here or at the top of backup_controller)',
          );
      }
    }
    const fs = role.freeswitch;
    if (fs) {
      duplicates(
        fs.hosts,
        (h) => h.name,
        (i) =>
          p.add([...at, 'freeswitch', 'hosts', i, 'name'], `host name "${fs.hosts[i]?.name}" is used twice`),
      );
      duplicates(
        fs.hosts,
        (h) => `${h.esl_host}:${h.esl_port}`,
        (i) =>
          p.add(
            [...at, 'freeswitch', 'hosts', i, 'esl_port'],
            'another host already uses this esl_host:esl_port',
          ),
      );
      fs.hosts.forEach((h, i) => {
        const r = h.rtp_ports;
        // A recovered leg needs an even port and the odd one above it (RTCP) inside the range.
        if (r && r[1] - r[0] < 1)
          p.add(
            [...at, 'freeswitch', 'hosts', i, 'rtp_ports'],
            `the end port must be above the start port (got ${r[0]}-${r[1]})`,
          );
      });
      if (fs.failover.targets !== 'auto') {
        const names = new Set(fs.hosts.map((h) => h.name));
        fs.failover.targets.forEach((n, i) => {
          if (!names.has(n))
            p.add(
              [...at, 'freeswitch', 'failover', 'targets', i],
              `host "${n}" is not defined in freeswitch.hosts`,
            );
        });
      }
    }
    duplicates(
      role.cti_adapters,
      (a) => a.key,
      (i) =>
        p.add([...at, 'cti_adapters', i, 'key'], `adapter key "${role.cti_adapters[i]?.key}" is used twice`),
    );
    role.cti_adapters.forEach((a, i) => {
      if (!(CTI_ADAPTER_KEYS as readonly string[]).includes(a.key))
        p.add(
          [...at, 'cti_adapters', i, 'key'],
          `unknown CTI adapter "${a.key}" (known: ${CTI_ADAPTER_KEYS.join(', ')})`,
        );
    });
    // The adapters stream the call events of the group's own FreeSWITCH host actors: without a farm there are none.
    if (role.cti_adapters.length > 0 && !role.freeswitch && !c.isRepaired(at, 'freeswitch'))
      p.add([...at, 'cti_adapters'], 'needs freeswitch on the role: the call events come from its hosts');
  }
}

/**
 * `monitors`: unique names at each level, groups that exist, a names monitor with something to watch, and each sg
 * gateway socket one gateway's (a purge for one lost gateway must not take another's registrations).
 */
function monitors(c: RuleContext): void {
  const { p } = c;
  const groups = new Set(c.mware.map(({ role }) => role.group));
  for (const { role, at } of c.mware) {
    if (c.isRepaired(at, 'monitors')) continue;
    const base = [...at, 'monitors'];
    duplicates(
      role.monitors,
      (m) => m.name,
      (i) => p.add([...base, i, 'name'], `monitor name "${role.monitors[i]?.name}" is used twice`),
    );
    role.monitors.forEach((m, i) => {
      const here = [...base, i];
      switch (m.kind) {
        case 'names':
          if (m.groups === undefined && m.names.length === 0) p.add(here, 'needs groups, names or both');
          if (Array.isArray(m.groups) && c.rolesComplete)
            m.groups.forEach((g, j) => {
              if (!groups.has(g)) p.add([...here, 'groups', j], `group ${g} has no mware instance`);
            });
          duplicates(
            m.names,
            (n) => n.name,
            (j) => p.add([...here, 'names', j, 'name'], `name "${m.names[j]?.name}" is used twice`),
          );
          m.names.forEach((n, j) =>
            duplicates(
              n.claimants,
              (x) => x.name,
              (k) =>
                p.add(
                  [...here, 'names', j, 'claimants', k, 'name'],
                  `claimant "${n.claimants[k]?.name}" is used twice`,
                ),
            ),
          );
          break;
        case 'megaco':
          duplicates(
            m.links,
            (l) => `${l.mgc} ${l.mg}`,
            (j) => p.add([...here, 'links', j], `link ${m.links[j]?.mgc}–${m.links[j]?.mg} is listed twice`),
          );
          break;
        case 'fsync':
          duplicates(
            m.sources,
            (x) => x.name,
            (j) =>
              p.add([...here, 'sources', j, 'name'], `source name "${m.sources[j]?.name}" is used twice`),
          );
          break;
        case 'sg': {
          duplicates(
            m.gateways,
            (g) => g.name,
            (j) =>
              p.add([...here, 'gateways', j, 'name'], `gateway name "${m.gateways[j]?.name}" is used twice`),
          );
          const owner = new Map<string, string>();
          m.gateways.forEach((g, j) =>
            g.sockets.forEach((sock, k) => {
              const at = [...here, 'gateways', j, 'sockets', k];
              const first = owner.get(sock);
              if (first !== undefined && first !== g.name)
                p.add(at, `socket ${sock} is also gateway "${first}"'s`);
              else owner.set(sock, g.name);
            }),
          );
          break;
        }
        default: {
          const never: never = m;
          return never;
        }
      }
    });
  }
}

/** `syslog_snmp`: what each manager's SNMP version needs, rule regexes that compile, a listener at all. */
function syslogSnmp(c: RuleContext): void {
  const { p } = c;
  for (const { role, at } of c.mware) {
    const conf = role.syslog_snmp;
    if (!conf || c.isRepaired(at, 'syslog_snmp')) continue;
    const base = [...at, 'syslog_snmp'];
    if (conf.listen.udp_port === undefined && conf.listen.tcp_port === undefined)
      p.add([...base, 'listen'], 'needs udp_port, tcp_port or both');
    conf.managers.forEach((m, i) => {
      const need =
        m.version === 'v2c' ? (['community'] as const) : (['user', 'auth_key', 'priv_key'] as const);
      for (const key of need)
        if (m[key] === undefined) p.add([...base, 'managers', i, key], `is required for SNMP ${m.version}`);
      if (m.version === 'v2c')
        for (const key of ['user', 'auth_key', 'priv_key'] as const)
          if (m[key] !== undefined)
            p.add([...base, 'managers', i, key], 'is for v3 only (this manager is v2c)');
    });
    conf.rules.forEach((r, i) => {
      if (r.regex === undefined) return;
      try {
        new RegExp(r.regex);
      } catch (err) {
        p.add([...base, 'rules', i, 'regex'], `is not a valid regular expression: ${(err as Error).message}`);
      }
    });
    duplicates(
      conf.rules,
      (r) => r.name,
      (i) => p.add([...base, 'rules', i, 'name'], `rule name "${conf.rules[i]?.name}" is used twice`),
    );
  }
}

/**
 * `acme`: each certificate's challenge has what it needs (dns-01 a hook, http-01 the node's listener), a wildcard
 * is asked by dns-01 only (RFC 8555 §7.1.3), and no two certificates share a first name or a folder (they would
 * overwrite each other's files).
 */
function acme(c: RuleContext): void {
  const { p } = c;
  for (const { role, at } of c.mware) {
    const conf = role.acme;
    if (!conf || c.isRepaired(at, 'acme')) continue;
    const base = [...at, 'acme'];
    conf.certs.forEach((cert, i) => {
      const here = [...base, 'certs', i];
      if (cert.challenge === 'dns-01' && cert.hook === undefined)
        p.add([...here, 'hook'], 'is required for dns-01');
      if (cert.challenge === 'http-01' && cert.hook !== undefined)
        p.add([...here, 'hook'], 'is for dns-01 only (this certificate uses http-01)');
      if (cert.hook?.[0] !== undefined && !cert.hook[0].startsWith('/'))
        p.add([...here, 'hook', 0], `must be an absolute path (got ${JSON.stringify(cert.hook[0])})`);
      if (cert.challenge === 'http-01' && conf.http01 === undefined)
        p.add([...here, 'challenge'], 'http-01 needs acme.http01 (where the node answers challenges)');
      cert.names.forEach((n, j) => {
        if (cert.challenge === 'http-01' && n.startsWith('*.'))
          p.add([...here, 'names', j], `the wildcard "${n}" can only be validated by dns-01`);
      });
      duplicates(
        cert.names,
        (n) => n,
        (j) => p.add([...here, 'names', j], `name "${cert.names[j]}" is given twice`),
      );
    });
    duplicates(
      conf.certs,
      (x) => x.names[0] ?? '',
      (i) =>
        p.add(
          [...base, 'certs', i, 'names', 0],
          `certificate "${conf.certs[i]?.names[0]}" is declared twice (the first name names a certificate)`,
        ),
    );
    duplicates(
      conf.certs,
      (x) => x.dir,
      (i, first) =>
        p.add(
          [...base, 'certs', i, 'dir'],
          `"${conf.certs[i]?.dir}" is also the folder of certificate "${conf.certs[first]?.names[0]}"`,
        ),
    );
    if (conf.backoff.max_s < conf.backoff.initial_s)
      p.add([...base, 'backoff', 'max_s'], `must be at least initial_s (${conf.backoff.initial_s})`);
  }
}

/**
 * `svc_tasks`: a group whose state is transactional, work hours that end after they start, work days named once,
 * and a runner command given by absolute path (the node's PATH is not the operator's shell's).
 */
function svcTasks(c: RuleContext): void {
  const { p } = c;
  for (const { role, at } of c.mware) {
    const conf = role.svc_tasks;
    if (!conf || c.isRepaired(at, 'svc_tasks')) continue;
    const base = [...at, 'svc_tasks'];
    // A firing is claimed by a fenced state write before it runs (actors/svctasks/ledger.ts): only a write that is
    // durable when acknowledged makes that claim survive a takeover.
    if (role.state_mode !== 'transactional')
      p.add(
        [...at, 'state_mode'],
        `service tasks run exactly once per firing only with state_mode: transactional (got ${role.state_mode}: a takeover could repeat or lose a firing)`,
      );
    const [from, to] = conf.work_week.hours;
    if (to <= from)
      p.add([...base, 'work_week', 'hours'], `work hours end after they start (got ${from}–${to})`);
    duplicates(
      conf.work_week.days,
      (d) => String(d),
      (i) => p.add([...base, 'work_week', 'days', i], `weekday ${conf.work_week.days[i]} is listed twice`),
    );
    if ('command' in conf.runner && !(conf.runner.command[0] ?? '').startsWith('/'))
      p.add([...base, 'runner', 'command', 0], 'the runner program is an absolute path');
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function securityAndCoordination(c: RuleContext): void {
  const { t, p } = c;
  duplicates(
    t.security.api_tokens,
    (k) => k.name,
    (i) =>
      p.add(
        ['security', 'api_tokens', i, 'name'],
        `token name "${t.security.api_tokens[i]?.name}" is used twice`,
      ),
  );
  duplicates(
    t.security.api_tokens,
    (k) => k.token,
    (i) =>
      p.add(
        ['security', 'api_tokens', i, 'token'],
        'the same token value is given twice; each token must be unique',
      ),
  );
  if (t.coordination && t.security.cluster_secret === undefined)
    p.add(
      ['security', 'cluster_secret'],
      'is required with coordination: it authenticates node-to-node traffic',
    );
  if (!t.coordination && !c.input.broken.coordination && c.mware.length + c.input.broken.roles.size > 1)
    p.add(
      'coordination',
      `is required with more than one enabled mware instance (${c.mware.length} here); without it a node runs the embedded single-node default`,
    );
}

/**
 * Two listeners on one address and port cannot both bind. API listeners run on every member; CTI adapters only on
 * the group's active member, so the same adapter of two members of one group never binds twice.
 */
function listeners(c: RuleContext): void {
  const { p } = c;
  const taken = new Map<string, { owner: string; cti?: number }>();
  for (const { role, at } of c.mware) {
    const server = c.serverOf(role);
    const address = server?.ifaces[role.iface];
    if (!server || address === undefined) continue;
    const claim = (addr: string, port: number, path: PathSegment[], what: string, ctiGroup?: number) => {
      const k = `${addr}:${port}`;
      const other = taken.get(k);
      if (other === undefined) taken.set(k, { owner: `${role.name} ${what}`, cti: ctiGroup });
      else if (ctiGroup === undefined || other.cti !== ctiGroup)
        p.add(path, `${what} ${k} is already used by ${other.owner}`);
    };
    if (!c.isRepaired(at, 'api')) claim(address, role.api.port, [...at, 'api', 'port'], 'API listener');
    if (c.isRepaired(at, 'cti_adapters')) continue;
    role.cti_adapters.forEach((a, i) => {
      const addr = a.iface === 'default' ? address : server.ifaces[a.iface];
      if (addr === undefined) {
        if (!c.isBrokenIface(server.name, a.iface))
          p.add(
            [...at, 'cti_adapters', i, 'iface'],
            `server "${server.name}" has no interface "${a.iface}" (use "default" for the role's own)`,
          );
        return;
      }
      claim(addr, a.port, [...at, 'cti_adapters', i, 'port'], 'CTI adapter', role.group);
    });
    const http01 = role.acme?.http01;
    if (http01 && !c.isRepaired(at, 'acme')) {
      const addr = http01.iface === 'default' ? address : server.ifaces[http01.iface];
      if (addr === undefined) {
        if (!c.isBrokenIface(server.name, http01.iface))
          p.add(
            [...at, 'acme', 'http01', 'iface'],
            `server "${server.name}" has no interface "${http01.iface}" (use "default" for the role's own)`,
          );
      } else
        // It runs on the group's active member only, like a CTI adapter.
        claim(addr, http01.port, [...at, 'acme', 'http01', 'port'], 'ACME HTTP-01 listener', role.group);
    }
    const syslog = role.syslog_snmp;
    if (!syslog || c.isRepaired(at, 'syslog_snmp')) continue;
    const addr = syslog.listen.iface === 'default' ? address : server.ifaces[syslog.listen.iface];
    if (addr === undefined) {
      if (!c.isBrokenIface(server.name, syslog.listen.iface))
        p.add(
          [...at, 'syslog_snmp', 'listen', 'iface'],
          `server "${server.name}" has no interface "${syslog.listen.iface}" (use "default" for the role's own)`,
        );
      continue;
    }
    // Like a CTI adapter, the syslog listener runs on the group's active member only.
    if (syslog.listen.tcp_port !== undefined)
      claim(
        addr,
        syslog.listen.tcp_port,
        [...at, 'syslog_snmp', 'listen', 'tcp_port'],
        'syslog listener',
        role.group,
      );
  }
}

/**
 * `telegram`: one account per login (a second one could never be told apart at /start), and one group per bot token
 * (two groups polling one bot would end each other's getUpdates with 409, and each chat would hear half).
 */
function telegram(c: RuleContext): void {
  const groupOfToken = new Map<string, number>();
  for (const { role, at } of c.mware) {
    const conf = role.telegram;
    if (!conf || c.isRepaired(at, 'telegram')) continue;
    const other = groupOfToken.get(conf.token);
    if (other === undefined) groupOfToken.set(conf.token, role.group);
    else if (other !== role.group)
      c.p.add(
        [...at, 'telegram', 'token'],
        `the same bot token is used by group ${other}: one group per bot`,
      );
    duplicates(
      conf.admins,
      (a) => a.login,
      (i) =>
        c.p.add([...at, 'telegram', 'admins', i, 'login'], `login "${conf.admins[i]?.login}" is used twice`),
    );
  }
}
