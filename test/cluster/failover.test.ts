import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MwareClient } from '../../src/client/client.ts';
import { runOnce } from '../../src/shell/shell.ts';
import { CLUSTER_ENV, clusterTopology } from '../harness/cluster.ts';
import { ClusterNodes } from '../harness/cluster-nodes.ts';
import type { RedisServer } from '../harness/redis.ts';
import { startRedis } from '../harness/redis.ts';

/**
 * A group of two mware node processes over a real redis-server (02-runtime.md "Cluster coordination"): who leads,
 * how the other takes over when the active dies or goes silent, and that a deposed active never acts again.
 */

let redis: RedisServer;
let nodes: ClusterNodes;

before(async () => {
  redis = await startRedis();
  nodes = new ClusterNodes(
    await clusterTopology({ redisUrl: redis.url, groups: [{ group: 7, members: 2 }] }),
  );
});
after(async () => {
  await nodes.stop();
  await redis.stop();
});

const get = (name: string, path: string) => nodes.get(name, path);
const post = (name: string, path: string, body: unknown) => nodes.post(name, path, body);
const until = (what: string, fn: () => Promise<boolean>, ms?: number) => nodes.until(what, fn, ms);
const activeAt = (name: string) => nodes.activeAt(name);

/**
 * The takeover notices (topic `cluster`) `name` logged for `epoch` — what the syslog → SNMP service traps — once
 * there is one (its log line comes through a pipe, after the node says it is active).
 */
async function takeovers(name: string, epoch: number): Promise<Record<string, unknown>[]> {
  const logged = () =>
    nodes
      .node(name)
      .logs()
      .filter((l) => l.topic === 'cluster' && l.epoch === epoch)
      .map((l) => ({ event: l.event, level: l.level, previous: l.previous, epoch: l.epoch }));
  await until(`a takeover notice on ${name}`, async () => logged().length > 0, 3_000).catch(() => undefined);
  return logged();
}

/** One `mware shell -c` command against `name`, in this process, its plain output. */
async function shell(name: string, line: string): Promise<string> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const client = new MwareClient({ url: nodes.url(name), token: CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN });
  assert.equal(await runOnce(client, line, sink, false), 0, out);
  return out;
}

/** One series of the group's metrics on `name`, by metric name and extra labels. */
async function metric(name: string, series: string, labels = ''): Promise<number> {
  const text = await (
    await fetch(nodes.url(name) + '/metrics', {
      headers: { authorization: `Bearer ${CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN}` },
    })
  ).text();
  const m = new RegExp(`^${series}\\{group="7",${labels}node="${name}"\\} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${series} on ${name}`);
  return Number(m[1]);
}

describe('a group of two nodes over Redis', { timeout: 120_000 }, () => {
  it('makes the lowest order active and the other passive, each knowing the other', async () => {
    nodes.start('mware1');
    nodes.start('mware2');
    // Two node processes start side by side (slowly on a loaded 2-core machine).
    await until('mware1 active', () => activeAt('mware1'), 60_000);
    await until('mware2 sees mware1 active', async () => {
      const c = (await get('mware2', '/api/v1/cluster')).body as {
        active: string;
        members: { name: string; role: string; last_heartbeat_ms: number | null }[];
      };
      return c.active === 'mware1' && c.members.every((m) => m.last_heartbeat_ms !== null);
    });
    assert.equal((await fetch(nodes.url('mware2') + '/active')).status, 503);
    assert.equal((await fetch(nodes.url('mware2') + '/readyz')).status, 200);
    await until('mware2 counts both members live', async () => {
      return (await metric('mware2', 'mware_cluster_members_live')) === 2;
    });
    const age = await metric('mware2', 'mware_cluster_member_heartbeat_age_seconds', 'member="mware1",');
    assert.ok(age >= 0 && age < 5, `mware1 heard from ${age} s ago`);
    assert.equal(await metric('mware2', 'mware_coordination_leader'), 0);
    assert.equal(await metric('mware1', 'mware_coordination_leader'), 1);
    assert.equal(await metric('mware2', 'mware_coordination_healthy'), 1);
  });

  it('serves a request sent to the passive node by forwarding it to the active one', async () => {
    const r = await post('mware2', '/api/v1/actors/domains/rootdomain.ru/messages?reply=true', {
      type: 'info',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const lock = await post('mware2', '/api/v1/mutex/orders-1/lock', { owner: 'script', hold_ms: 60_000 });
    assert.equal(lock.status, 200, JSON.stringify(lock.body));
    const info = await get('mware1', '/api/v1/mutex/orders-1');
    assert.deepEqual(
      (info.body.holders as { owner: string }[]).map((h) => h.owner),
      ['script'],
    );
  });

  it('shows the whole cluster from the passive: both nodes, their group and role, each with its own tree', async () => {
    const r = await get('mware2', '/api/v1/tree?scope=cluster');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const nodes = r.body.nodes as ClusterTreeEntry[];
    assert.deepEqual(
      nodes.map((x) => [x.name, x.group, x.role, x.self, x.error]),
      [
        ['mware2', 7, 'passive', true, undefined],
        ['mware1', 7, 'active', false, undefined],
      ],
    );
    // mware1's tree is its own (read over the node channel): the active runs the group's domains.
    const ids = (t: ClusterTreeEntry['tree']) => (t?.children ?? []).map((c) => c.id);
    assert.ok(ids(nodes[1]?.tree).includes('domains'), JSON.stringify(ids(nodes[1]?.tree)));
    assert.equal(nodes[1]?.stats?.active, true);
    assert.equal(nodes[0]?.stats?.active, false);

    // The shell shows the same: `tree --cluster` a heading per node; `cluster` each member's heartbeat and lag.
    const tree = await shell('mware2', 'tree --cluster');
    assert.match(tree, /^mware2 {2}group 7 {2}passive {2}this node$/m);
    assert.match(tree, /^mware1 {2}group 7 {2}active$/m);
    assert.match(tree, /^ {2}├── domains {2}running {2}domain-supervisor/m);
    const cluster = await shell('mware2', 'cluster');
    assert.match(cluster, /^ {2}mware1 .* active +epoch 1 +heartbeat \d+ ms ago, lag [\d.]+ ms$/m);
  });

  it('hands over to the next in order at once when the active process dies, its holds intact', async () => {
    const epochBefore = (await get('mware2', '/api/v1/cluster')).body.epoch as number;
    const changesBefore = await metric('mware2', 'mware_coordination_leadership_changes_total');
    const t0 = performance.now();
    nodes.node('mware1').process.signal('SIGKILL');
    await until('mware2 active', () => activeAt('mware2'), 10_000);
    const took = performance.now() - t0;
    assert.ok(took < 3_000, `took over in ${Math.round(took)} ms`);
    const c = (await get('mware2', '/api/v1/cluster')).body;
    assert.ok((c.epoch as number) > epochBefore, `epoch ${String(c.epoch)} after ${epochBefore}`);
    assert.equal(await metric('mware2', 'mware_coordination_leadership_changes_total'), changesBefore + 1);
    assert.equal(await metric('mware2', 'mware_coordination_epoch'), c.epoch);
    assert.equal(await metric('mware2', 'mware_coordination_leader'), 1);
    const info = await get('mware2', '/api/v1/mutex/orders-1');
    assert.deepEqual(
      (info.body.holders as { owner: string }[]).map((h) => h.owner),
      ['script'],
      'the hold survived',
    );
    assert.deepEqual(await takeovers('mware2', c.epoch as number), [
      { event: 'active-lost', level: 40, previous: 'mware1', epoch: c.epoch },
    ]);
  });

  it('lists a dead node with an error in the whole-cluster tree, in bounded time, the rest intact', async () => {
    const t0 = performance.now();
    const r = await get('mware2', '/api/v1/tree?scope=cluster');
    const took = performance.now() - t0;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(took < 3_000, `answered in ${Math.round(took)} ms`);
    const nodes = r.body.nodes as ClusterTreeEntry[];
    assert.deepEqual(
      nodes.map((x) => [x.name, x.role, x.tree === undefined, typeof x.error?.code]),
      [
        ['mware2', 'active', false, 'undefined'],
        ['mware1', 'unknown', true, 'string'],
      ],
    );
  });

  it('brings a restarted node back as passive: the active keeps leading (no failback)', async () => {
    await nodes.node('mware1').process.exited;
    nodes.start('mware1');
    // A node process starting on a busy machine (tsx compiling it) can take a while.
    await until(
      'mware1 passive',
      async () => (await fetch(nodes.url('mware1') + '/readyz')).status === 200,
      45_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await activeAt('mware2'), true);
    assert.equal(await activeAt('mware1'), false);
  });

  it('takes over from an active that goes silent only once its lease is over, and the silent one never acts again', async () => {
    const stalled = nodes.node('mware2');
    const epochBefore = (await get('mware1', '/api/v1/cluster')).body.epoch as number;
    stalled.process.signal('SIGSTOP');
    const t0 = performance.now();
    await until('mware1 active', () => activeAt('mware1'), 10_000);
    const took = performance.now() - t0;
    assert.ok(
      took >= 1_000,
      `a silent node is waited for (its lease): took over after ${Math.round(took)} ms`,
    );
    const epochAfter = (await get('mware1', '/api/v1/cluster')).body.epoch as number;
    assert.ok(epochAfter > epochBefore, `epoch ${epochAfter} after ${epochBefore}`);
    stalled.process.signal('SIGCONT');
    await until('mware2 passive again', async () => {
      const c = (await get('mware2', '/api/v1/cluster')).body as { node_state: string };
      return c.node_state === 'passive';
    });
    assert.equal(await activeAt('mware2'), false);
    assert.ok(
      !stalled.logs().some((l) => l.msg === 'node active' && (l.epoch as number) >= epochAfter),
      'never active again under the new epoch',
    );
    // A silent active is a lost one, whatever it said last.
    assert.deepEqual(await takeovers('mware1', epochAfter), [
      { event: 'active-lost', level: 40, previous: 'mware2', epoch: epochAfter },
    ]);
  });

  it('hands over at once on SIGTERM, and the new active tells it was planned (no alarm)', async () => {
    const t0 = performance.now();
    const stopping = nodes.node('mware1').process.stop('SIGTERM');
    await until('mware2 active', () => activeAt('mware2'), 10_000);
    assert.ok(performance.now() - t0 < 2_000, `handed over in ${Math.round(performance.now() - t0)} ms`);
    assert.deepEqual(await stopping, { code: 0, signal: null });
    const epoch = (await get('mware2', '/api/v1/cluster')).body.epoch as number;
    assert.deepEqual(await takeovers('mware2', epoch), [
      { event: 'handed-over', level: 30, previous: 'mware1', epoch },
    ]);
  });
});

interface ClusterTreeEntry {
  name: string;
  group: number;
  role: string;
  self: boolean;
  tree?: { children?: { id: string }[] };
  stats?: { active: boolean };
  error?: { code: string; message: string };
}
