import { freePort } from './ports.ts';

/**
 * A cluster topology for tests: one site, the groups and members asked for, every node on 127.0.0.1 with free API
 * and node-channel ports, Redis coordination at `redisUrl`, tokens and the cluster secret from the environment of
 * the node processes ({@link CLUSTER_ENV}).
 */

export const CLUSTER_ENV = {
  MWARE_TEST_ADMIN_TOKEN: 'cluster-admin-token-0123456789',
  MWARE_CLUSTER_SECRET: 'cluster-secret-for-tests-0123456789',
};

export interface ClusterMember {
  name: string;
  group: number;
  order: number;
  apiPort: number;
  channelPort: number;
}

export interface TestCluster {
  topology: Record<string, unknown>;
  members: ClusterMember[];
  url(name: string): string;
}

export async function clusterTopology(o: {
  /** A Redis URL, or Sentinel. */
  redisUrl?: string;
  sentinel?: { sentinels: { host: string; port: number }[]; name: string };
  groups: {
    group: number;
    members: number;
    include_domains?: string[];
    /** The group's site (default: `main`); other sites come from `sites`. */
    site?: string;
    /** Extra role fields for every member (its services: `svc_tasks`, …). */
    role?: Record<string, unknown>;
  }[];
  /** Sites after the master site `main` (which serves `rootdomain.ru`). */
  otherSites?: { name: string; domains?: string[] }[];
  leaseTtlMs?: number;
  renewMs?: number;
  stateMode?: 'none' | 'periodic' | 'transactional';
}): Promise<TestCluster> {
  const members: ClusterMember[] = [];
  let n = 0;
  for (const g of o.groups)
    for (let i = 0; i < g.members; i++)
      members.push({
        name: `mware${++n}`,
        group: g.group,
        order: 10 * (i + 1),
        apiPort: await freePort(),
        channelPort: await freePort(),
      });
  const topology = {
    cluster: 'testcluster',
    coordination: {
      redis: o.sentinel ?? { url: o.redisUrl },
      lease_ttl_ms: o.leaseTtlMs ?? 1_500,
      renew_ms: o.renewMs ?? 300,
    },
    security: {
      api_tokens: [{ name: 'ops', token: '${env:MWARE_TEST_ADMIN_TOKEN}', scopes: ['admin'] }],
      cluster_secret: '${env:MWARE_CLUSTER_SECRET}',
    },
    sites: [
      { name: 'main', master: true, domains: ['rootdomain.ru'] },
      ...(o.otherSites ?? []).map((s) => ({ name: s.name, domains: s.domains ?? [] })),
    ],
    servers: members.map((m) => ({
      name: `srv-${m.name}`,
      site: o.groups.find((g) => g.group === m.group)?.site ?? 'main',
      ifaces: { eth0: '127.0.0.1' },
    })),
    roles: members.map((m) => ({
      name: m.name,
      roletype: 'mware',
      server: `srv-${m.name}`,
      iface: 'eth0',
      group: m.group,
      order: m.order,
      include_domains: o.groups.find((g) => g.group === m.group)?.include_domains ?? [],
      state_mode: o.stateMode ?? 'transactional',
      api: { port: m.apiPort },
      channel: { port: m.channelPort },
      ...o.groups.find((g) => g.group === m.group)?.role,
    })),
    domains: ['rootdomain.ru', 'test.rootdomain.ru', 'sales.test.rootdomain.ru'],
  };
  return {
    topology,
    members,
    url: (name) => `http://127.0.0.1:${members.find((m) => m.name === name)?.apiPort ?? 0}`,
  };
}
