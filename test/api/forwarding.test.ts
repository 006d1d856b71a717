import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseTopologyText } from '../../topology/load.ts';
import { placementFor } from '../../topology/placement.ts';
import type { Topology } from '../../topology/schema.ts';
import type { ApiContext } from '../../src/api/context.ts';
import { clusterTree } from '../../src/api/cluster-tree.ts';
import { dispatchMessage, runForwarded } from '../../src/api/dispatch.ts';
import type { TreeNode } from '../../src/supervision/tree.ts';
import { errorResponse } from '../../src/api/errors.ts';
import type { ForwardedRequest } from '../../src/api/forwarding.ts';
import { ForwardedRequestSchema } from '../../src/api/forwarding.ts';
import { NodeChannel } from '../../src/cluster/channel.ts';
import { silentLogger } from '../../src/log/log.ts';
import type { ClusterRuntime } from '../../src/node/cluster-runtime.ts';
import type { NodeState } from '../../src/node/lifecycle.ts';
import { NodeRouting } from '../../src/node/routing.ts';
import { systemClock } from '../../src/supervision/clock.ts';
import { freePort } from '../harness/ports.ts';

/**
 * Forwarding between two nodes over a real node channel on 127.0.0.1 (02-runtime.md "Routing": a request that
 * crosses nodes keeps a hop limit; loops are impossible). Each node routes with its own topology file and the real
 * NodeRouting; who holds which group's lease is given, not read from Redis.
 *
 * Node `a` leads group 1 and node `b` group 2. In a's file, x.rootdomain.ru is group 2's; in b's — misconfigured —
 * it is group 1's, so each would send a request for it to the other, for ever, without the hop limit.
 * z.rootdomain.ru is group 2's in both files.
 */

const SECRET = 'cluster-secret-0123456789abcdef';
const ADMIN = { name: 'ops', scopes: new Set(['admin'] as const) };
const code = (e: unknown) => (e as { code?: string }).code;

function topology(include: { a: string[]; b: string[] }, ports: Record<string, number>): Topology {
  const doc = {
    cluster: 'hops',
    coordination: { redis: { url: 'redis://127.0.0.1:1/0' } },
    security: { cluster_secret: SECRET },
    sites: [{ name: 'main', master: true, domains: ['rootdomain.ru'] }],
    servers: [
      { name: 'srv-a', site: 'main', ifaces: { eth0: '127.0.0.1' } },
      { name: 'srv-b', site: 'main', ifaces: { eth0: '127.0.0.1' } },
    ],
    roles: (['a', 'b'] as const).map((name, i) => ({
      name,
      roletype: 'mware',
      server: `srv-${name}`,
      iface: 'eth0',
      group: i + 1,
      order: 10,
      include_domains: include[name],
      api: { port: ports[`${name}-api`] },
      channel: { port: ports[name] },
    })),
    domains: ['rootdomain.ru', 'x.rootdomain.ru', 'z.rootdomain.ru'],
  };
  const r = parseTopologyText(stringify(doc), 'hops.yaml', { env: {}, baseDir: '/', readFile: () => '' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.topology;
}

interface TestNode {
  name: string;
  ctx: ApiContext;
  channel: NodeChannel;
  /** Forwarded requests this node received. */
  received: number;
  state: NodeState;
}

const nodes: TestNode[] = [];

async function node(name: 'a' | 'b', t: Topology): Promise<TestNode> {
  const placement = placementFor(t, name);
  assert.ok(placement);
  const n = { name, received: 0, state: 'active' } as TestNode;
  const peers = new Map(
    (['a', 'b'] as const)
      .filter((p) => p !== name)
      .map((p) => [p, { host: '127.0.0.1', port: placementFor(t, p)?.role.channel?.port ?? 0 }]),
  );
  n.channel = new NodeChannel({
    self: name,
    host: '127.0.0.1',
    port: placement.role.channel?.port ?? 0,
    secret: SECRET,
    peers,
    log: silentLogger(),
    // As a node does (node.ts): a forwarded request is checked at the edge, then run here.
    onRequest: (_from, body) => {
      n.received++;
      return runForwarded(n.ctx, ForwardedRequestSchema.parse(body));
    },
  });
  await n.channel.listen();
  const leads = (g: number) => ({ epoch: 1, holder: g === 1 ? 'a' : 'b', raw: '' });
  const cluster = {
    channel: n.channel,
    coordination: { holderOf: async (g: number) => leads(g) },
  } as unknown as ClusterRuntime;
  const routing = new NodeRouting({
    topology: t,
    placement,
    state: () => n.state,
    coordination: { leading: () => n.state === 'active' } as unknown as ClusterRuntime['coordination'],
    cluster,
    clock: systemClock,
  });
  // What dispatching a request that is not run here needs of the API context: where it goes, and the node's state.
  n.ctx = {
    group: placement.group,
    routing,
    state: () => n.state,
    // What the whole-cluster tree reads of a node: its name, its tree (one crashed actor) and its counters.
    nodeName: name,
    cluster: 'hops',
    tree: () => crashedTree(name),
    metrics: { snapshot: () => ({ ...STATS, at: Date.now() }) },
    scrub: (text: string) => text,
  } as unknown as ApiContext;
  nodes.push(n);
  return n;
}

let a: TestNode;
let b: TestNode;

const STATS = {
  messages: 3,
  restarts: 1,
  failures: 1,
  mailbox: 0,
  actors: 2,
  leadership_changes: 1,
  epoch: 1,
  active: true,
};

function crashedTree(name: string): TreeNode {
  const base = { restartTimes: [], mailbox: 0, restarts: 0, state: 'running' as const };
  return {
    ...base,
    path: '/',
    id: '',
    kind: 'root',
    mode: 'supervisor',
    children: [
      {
        ...base,
        path: '/domains/crashed',
        id: 'crashed',
        kind: 'domain',
        mode: 'in-memory',
        restarts: 1,
        restartTimes: [1],
        lastError: { name: 'Error', code: 'MW_ERR_INTERNAL', message: `the words of ${name}'s crash` },
      },
    ],
  };
}

before(async () => {
  const ports: Record<string, number> = {};
  for (const k of ['a', 'b', 'a-api', 'b-api']) ports[k] = await freePort();
  a = await node('a', topology({ a: [], b: ['x.rootdomain.ru', 'z.rootdomain.ru'] }, ports));
  b = await node('b', topology({ a: ['x.rootdomain.ru'], b: [] }, ports));
});
after(async () => {
  for (const n of nodes) await n.channel.close();
});

const ask = (n: TestNode, path: string, timeoutMs = 2_000) =>
  dispatchMessage(n.ctx, ADMIN, path, { type: 'info', payload: null, timeoutMs }, true);

describe('forwarding between nodes', () => {
  it('stops a loop made by nodes whose topologies disagree: one hop, then MW_ERR_HOP_LIMIT (508)', async () => {
    const t0 = performance.now();
    const err = await ask(a, '/domains/x.rootdomain.ru').then(
      () => assert.fail('the request was served'),
      (e: unknown) => e,
    );
    assert.equal(code(err), 'MW_ERR_HOP_LIMIT', String(err));
    assert.match(String(err), /topology files disagree/);
    assert.deepEqual([a.received, b.received], [0, 1], 'b refused it instead of sending it back to a');
    assert.ok(performance.now() - t0 < 1_000, 'refused at once, not retried until the deadline');
    const r = errorResponse(err);
    assert.deepEqual([r.status, r.body.error.code], [508, 'MW_ERR_HOP_LIMIT']);
  });

  it('refuses a mutex operation the same way', async () => {
    // Keys split over the groups by rendezvous hashing, the same in both files: no disagreement, so b serves group
    // 2's keys itself. A request forwarded with its hops spent, for a key of a's group, is refused by b.
    const before = a.received;
    const req: ForwardedRequest = {
      op: 'mutex',
      method: 'inspect',
      key: keyOfGroup(1),
      body: null,
      principal: { name: 'ops', scopes: ['admin'] },
      hops: 1,
    };
    await assert.rejects(runForwarded(b.ctx, req), (e: unknown) => code(e) === 'MW_ERR_HOP_LIMIT');
    await assert.rejects(
      runForwarded(b.ctx, { ...req, hops: 2 }),
      (e: unknown) => code(e) === 'MW_ERR_HOP_LIMIT',
    );
    assert.equal(a.received, before, 'never forwarded on');
  });

  it('treats a member of the owning group that is not active now as a takeover under way: retried, not refused', async () => {
    b.state = 'passive';
    b.received = 0;
    try {
      const err = await ask(a, '/domains/z.rootdomain.ru', 600).then(
        () => assert.fail('served by a passive node'),
        (e: unknown) => e,
      );
      assert.equal(code(err), 'MW_ERR_NOT_READY', String(err));
      assert.ok(b.received > 1, `asked again while waiting for the new active (${b.received} tries)`);
      assert.equal(a.received, 0);
    } finally {
      b.state = 'active';
    }
  });
});

/** A mutex key that group `g` owns (by both files). */
function keyOfGroup(g: number): string {
  for (let i = 0; ; i++) if (a.ctx.routing.groupOfMutexKey(`k${i}`) === g) return `k${i}`;
}

describe('the whole-cluster tree between nodes', () => {
  it('builds the whole-cluster tree from every node’s own answer, each node hiding a crash’s words from a reader', async () => {
    const before = b.received;
    const reader = { name: 'viewer', scopes: new Set(['calls'] as const) };
    const c = await clusterTree(a.ctx, reader);
    assert.equal(b.received, before + 1, 'b was asked over the node channel');
    assert.deepEqual(
      c.nodes.map((n) => [n.name, n.group, n.role, n.self, n.error]),
      [
        ['a', 1, 'active', true, undefined],
        ['b', 2, 'active', false, undefined],
      ],
    );
    const crash = (i: number) => c.nodes[i]?.tree?.children?.[0]?.lastError;
    assert.equal(crash(1)?.code, 'MW_ERR_INTERNAL');
    assert.doesNotMatch(crash(1)?.message ?? '', /crash/, 'b applied the reader’s disclosure');
    assert.doesNotMatch(crash(0)?.message ?? '', /crash/);
    const admin = await clusterTree(a.ctx, ADMIN);
    assert.match(admin.nodes[1]?.tree?.children?.[0]?.lastError?.message ?? '', /the words of b's crash/);
    assert.equal(admin.nodes[1]?.stats?.messages, 3);
  });
});
