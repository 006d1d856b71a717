import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { TestCluster } from '../harness/cluster.ts';
import { CLUSTER_ENV, clusterTopology } from '../harness/cluster.ts';
import type { NodeProcess } from '../harness/node.ts';
import { startNodeProcess } from '../harness/node.ts';
import type { RedisServer } from '../harness/redis.ts';
import { startRedis } from '../harness/redis.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * A group of two mware node processes over a real redis-server (02-runtime.md "Cluster coordination"): who leads,
 * how the other takes over when the active dies or goes silent, and that a deposed active never acts again.
 */

let redis: RedisServer;
let cluster: TestCluster;
const dir = tempDir('failover');
let file: string;
const nodes = new Map<string, NodeProcess>();
const auth = {
  authorization: `Bearer ${CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN}`,
  'content-type': 'application/json',
};

before(async () => {
  redis = await startRedis();
  cluster = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 7, members: 2 }] });
  file = join(dir.path, 'cluster.yaml');
  writeFileSync(file, stringify(cluster.topology));
});
after(async () => {
  for (const n of nodes.values()) await n.process.stop('SIGKILL');
  for (const n of nodes.values()) n.cleanup();
  await redis.stop();
  dir.cleanup();
});

function start(name: string): NodeProcess {
  const n = startNodeProcess({
    topology: file,
    role: name,
    env: { ...CLUSTER_ENV, MWARE_LOG_LEVEL: 'info' },
  });
  nodes.set(name, n);
  return n;
}

async function get(name: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(cluster.url(name) + path, { headers: auth });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function post(name: string, path: string, body: unknown) {
  const res = await fetch(cluster.url(name) + path, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until `fn` holds, failing after `ms`. */
async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}

/** One series of the group's metrics on `name`, by metric name and extra labels. */
async function metric(name: string, series: string, labels = ''): Promise<number> {
  const text = await (await fetch(cluster.url(name) + '/metrics', { headers: auth })).text();
  const m = new RegExp(`^${series}\\{group="7",${labels}node="${name}"\\} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${series} on ${name}`);
  return Number(m[1]);
}

const activeAt = async (name: string) => (await fetch(cluster.url(name) + '/active')).status === 200;

describe('a group of two nodes over Redis', { timeout: 120_000 }, () => {
  it('makes the lowest order active and the other passive, each knowing the other', async () => {
    start('mware1');
    start('mware2');
    // Two node processes start side by side (slowly on a loaded 2-core machine).
    await until('mware1 active', () => activeAt('mware1'), 60_000);
    await until('mware2 sees mware1 active', async () => {
      const c = (await get('mware2', '/api/v1/cluster')).body as {
        active: string;
        members: { name: string; role: string; last_heartbeat_ms: number | null }[];
      };
      return c.active === 'mware1' && c.members.every((m) => m.last_heartbeat_ms !== null);
    });
    assert.equal((await fetch(cluster.url('mware2') + '/active')).status, 503);
    assert.equal((await fetch(cluster.url('mware2') + '/readyz')).status, 200);
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

  it('hands over to the next in order at once when the active process dies, its holds intact', async () => {
    const epochBefore = (await get('mware2', '/api/v1/cluster')).body.epoch as number;
    const changesBefore = await metric('mware2', 'mware_coordination_leadership_changes_total');
    const t0 = performance.now();
    (nodes.get('mware1') as NodeProcess).process.signal('SIGKILL');
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
  });

  it('brings a restarted node back as passive: the active keeps leading (no failback)', async () => {
    await (nodes.get('mware1') as NodeProcess).process.exited;
    nodes.get('mware1')?.cleanup();
    start('mware1');
    await until(
      'mware1 passive',
      async () => (await fetch(cluster.url('mware1') + '/readyz')).status === 200,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await activeAt('mware2'), true);
    assert.equal(await activeAt('mware1'), false);
  });

  it('takes over from an active that goes silent only once its lease is over, and the silent one never acts again', async () => {
    const stalled = nodes.get('mware2') as NodeProcess;
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
  });

  it('hands over at once on SIGTERM', async () => {
    const t0 = performance.now();
    const stopping = (nodes.get('mware1') as NodeProcess).process.stop('SIGTERM');
    await until('mware2 active', () => activeAt('mware2'), 10_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\nmware2:\n${(nodes.get('mware2') as NodeProcess).process.tail(30)}`);
    });
    assert.ok(performance.now() - t0 < 2_000, `handed over in ${Math.round(performance.now() - t0)} ms`);
    assert.deepEqual(await stopping, { code: 0, signal: null });
  });
});
