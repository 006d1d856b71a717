import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { TestCluster } from '../harness/cluster.ts';
import { CLUSTER_ENV, clusterTopology } from '../harness/cluster.ts';
import type { NodeProcess } from '../harness/node.ts';
import { startNodeProcess } from '../harness/node.ts';
import { startRedis } from '../harness/redis.ts';
import { startSentinels } from '../harness/sentinel.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * Coordination outages (02-runtime.md): a Redis that stops answering does not demote a healthy active whose members
 * all confirm they are passive; without that confirmation it demotes at its lease deadline. With Sentinel, the
 * nodes follow the replica Sentinel promotes, and no two nodes are ever active at once.
 */

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The nodes of the running test, whose last log lines a failed wait prints. */
let running = new Map<string, NodeProcess>();

const auth = { authorization: `Bearer ${CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN}` };

async function group(c: TestCluster): Promise<Map<string, NodeProcess>> {
  const dir = tempDir('outage');
  const file = join(dir.path, 'cluster.yaml');
  writeFileSync(file, stringify(c.topology));
  const nodes = new Map<string, NodeProcess>();
  for (const m of c.members)
    nodes.set(
      m.name,
      startNodeProcess({ topology: file, role: m.name, env: { ...CLUSTER_ENV, MWARE_LOG_LEVEL: 'info' } }),
    );
  cleanups.push(async () => {
    for (const n of nodes.values()) {
      n.process.signal('SIGCONT');
      await n.process.stop('SIGKILL');
      n.cleanup();
    }
    dir.cleanup();
  });
  running = nodes;
  return nodes;
}

const activeAt = async (c: TestCluster, name: string) =>
  (await fetch(c.url(name) + '/active', { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))
    ?.status === 200;

async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const tails = [...running].map(([name, n]) => `--- ${name}\n${n.process.tail(20)}`).join('\n');
  assert.fail(`not within ${ms} ms: ${what}\n${tails}`);
}

/** Waits for the group to elect its active member; returns its name and the other member's. */
async function elected(c: TestCluster): Promise<{ active: string; passive: string }> {
  let active = '';
  await until(
    'an active member',
    async () => {
      for (const m of c.members) if (await activeAt(c, m.name)) active = m.name;
      return active !== '';
    },
    60_000,
  );
  const passive = c.members.find((m) => m.name !== active)?.name ?? '';
  await until(`${passive} heard of the active`, async () => (await coordination(c, passive)).epoch !== null);
  return { active, passive };
}

/** Samples who is active every 50 ms for `ms`; returns the samples (names active at each instant). */
async function watch(c: TestCluster, ms: number): Promise<string[][]> {
  const samples: string[][] = [];
  for (const end = performance.now() + ms; performance.now() < end;) {
    const active = await Promise.all(
      c.members.map(async (m) => ((await activeAt(c, m.name)) ? [m.name] : [])),
    );
    samples.push(active.flat());
    await new Promise((r) => setTimeout(r, 50));
  }
  return samples;
}

const coordination = async (c: TestCluster, name: string) =>
  (await (await fetch(c.url(name) + '/api/v1/cluster', { headers: auth })).json()) as {
    epoch: number;
    coordination: { healthy: boolean };
  };

describe('coordination outages', { timeout: 180_000 }, () => {
  it('keeps the active active through a Redis outage when every member confirms it is passive', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const c = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 3, members: 2 }] });
    await group(c);
    const { active } = await elected(c);
    const epoch = (await coordination(c, active)).epoch;
    redis.process.signal('SIGSTOP');
    const during = await watch(c, 3_500); // more than twice the lease
    const view = await coordination(c, active);
    redis.process.signal('SIGCONT');
    assert.ok(
      during.every((s) => s.length === 1 && s[0] === active),
      `${active} alone active throughout: ${JSON.stringify(during)}`,
    );
    assert.equal(view.coordination.healthy, false, 'the outage shows as unhealthy coordination');
    await until(
      'coordination healthy again',
      async () => (await coordination(c, active)).coordination.healthy,
    );
    assert.equal((await coordination(c, active)).epoch, epoch, 'the same epoch: nobody took over');
  });

  it('demotes the active at its lease deadline when Redis and a member are both out of reach', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const c = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 4, members: 2 }] });
    const nodes = await group(c);
    const { active, passive } = await elected(c);
    redis.process.signal('SIGSTOP');
    nodes.get(passive)?.process.signal('SIGSTOP');
    const t0 = performance.now();
    await until(`${active} demoted`, async () => !(await activeAt(c, active)), 10_000);
    const took = performance.now() - t0;
    assert.ok(took < 3_000, `demoted after ${Math.round(took)} ms (lease 1.5 s)`);
    redis.process.signal('SIGCONT');
    nodes.get(passive)?.process.signal('SIGCONT');
    await until(
      'an active again',
      async () => (await activeAt(c, 'mware1')) || (await activeAt(c, 'mware2')),
    );
  });

  it('follows Sentinel to the promoted replica, the active staying active and never a second one', async () => {
    const s = await startSentinels();
    cleanups.push(() => s.stop());
    const c = await clusterTopology({
      sentinel: { sentinels: s.sentinels, name: s.name },
      groups: [{ group: 5, members: 2 }],
    });
    await group(c);
    const { active } = await elected(c);
    const epoch = (await coordination(c, active)).epoch;
    s.servers.primary.process.signal('SIGKILL');
    const promoted = s.servers.replica.process.waitForLine(/MASTER MODE enabled/, 30_000);
    const samples = await watch(c, 6_000);
    await promoted;
    assert.ok(
      samples.every((x) => x.length <= 1),
      `never two actives: ${JSON.stringify(samples.filter((x) => x.length > 1))}`,
    );
    assert.ok(
      samples.every((x) => x[0] === active),
      `${active} stayed active: ${JSON.stringify(samples)}`,
    );
    await until(
      'coordination healthy on the new primary',
      async () => (await coordination(c, active)).coordination.healthy,
      30_000,
    );
    assert.ok((await coordination(c, active)).epoch >= epoch);
  });
});
