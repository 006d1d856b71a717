import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { TestCluster } from '../harness/cluster.ts';
import { clusterTopology } from '../harness/cluster.ts';
import { ClusterNodes } from '../harness/cluster-nodes.ts';
import { startRedis } from '../harness/redis.ts';
import { startSentinels } from '../harness/sentinel.ts';

/**
 * Coordination outages (02-runtime.md): a Redis that stops answering does not demote a healthy active whose members
 * all confirm they are passive; without that confirmation it demotes at its lease deadline. With Sentinel, the
 * nodes follow the replica Sentinel promotes, and no two nodes are ever active at once.
 */

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The group's nodes, started; stopped when the file ends. */
function group(c: TestCluster): ClusterNodes {
  const nodes = new ClusterNodes(c);
  for (const m of c.members) nodes.start(m.name);
  cleanups.push(() => nodes.stop());
  return nodes;
}

/** Waits for the group to elect its active member and the other to hear of it. */
async function elected(nodes: ClusterNodes, g: number): Promise<{ active: string; passive: string }> {
  const { active, passive } = await nodes.settled(g);
  return { active, passive: passive[0] ?? '' };
}

/** Samples who is active every 50 ms for `ms`; returns the samples (names active at each instant). */
async function watch(nodes: ClusterNodes, ms: number): Promise<string[][]> {
  const samples: string[][] = [];
  for (const end = performance.now() + ms; performance.now() < end;) {
    const names = nodes.cluster.members.map((m) => m.name);
    const up = await Promise.all(names.map((n) => nodes.activeAt(n).catch(() => false)));
    samples.push(names.filter((_, i) => up[i]));
    await new Promise((r) => setTimeout(r, 50));
  }
  return samples;
}

const coordination = async (nodes: ClusterNodes, name: string) =>
  (await nodes.get(name, '/api/v1/cluster')).body as unknown as {
    epoch: number;
    coordination: { healthy: boolean };
  };

describe('coordination outages', { timeout: 180_000 }, () => {
  it('keeps the active active through a Redis outage when every member confirms it is passive', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const c = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 3, members: 2 }] });
    const nodes = group(c);
    const { active } = await elected(nodes, 3);
    const epoch = (await coordination(nodes, active)).epoch;
    redis.process.signal('SIGSTOP');
    const during = await watch(nodes, 3_500); // more than twice the lease
    const view = await coordination(nodes, active);
    redis.process.signal('SIGCONT');
    assert.ok(
      during.every((s) => s.length === 1 && s[0] === active),
      `${active} alone active throughout: ${JSON.stringify(during)}`,
    );
    assert.equal(view.coordination.healthy, false, 'the outage shows as unhealthy coordination');
    await nodes.until(
      'coordination healthy again',
      async () => (await coordination(nodes, active)).coordination.healthy,
    );
    assert.equal((await coordination(nodes, active)).epoch, epoch, 'the same epoch: nobody took over');
  });

  it('demotes the active at its lease deadline when Redis and a member are both out of reach', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const c = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 4, members: 2 }] });
    const nodes = group(c);
    const { active, passive } = await elected(nodes, 4);
    redis.process.signal('SIGSTOP');
    nodes.node(passive).process.signal('SIGSTOP');
    const t0 = performance.now();
    await nodes.until(
      `${active} demoted`,
      async () => !(await nodes.activeAt(active).catch(() => false)),
      10_000,
    );
    const took = performance.now() - t0;
    assert.ok(took < 3_000, `demoted after ${Math.round(took)} ms (lease 1.5 s)`);
    redis.process.signal('SIGCONT');
    nodes.node(passive).process.signal('SIGCONT');
    await nodes.until('an active again', async () => (await nodes.activeOf(4)).length === 1);
  });

  it('follows Sentinel to the promoted replica, the active staying active and never a second one', async () => {
    const s = await startSentinels();
    cleanups.push(() => s.stop());
    const c = await clusterTopology({
      sentinel: { sentinels: s.sentinels, name: s.name },
      groups: [{ group: 5, members: 2 }],
    });
    const nodes = group(c);
    const { active } = await elected(nodes, 5);
    const epoch = (await coordination(nodes, active)).epoch;
    s.servers.primary.process.signal('SIGKILL');
    const promoted = s.servers.replica.process.waitForLine(/MASTER MODE enabled/, 30_000);
    const samples = await watch(nodes, 6_000);
    await promoted;
    assert.ok(
      samples.every((x) => x.length <= 1),
      `never two actives: ${JSON.stringify(samples.filter((x) => x.length > 1))}`,
    );
    assert.ok(
      samples.every((x) => x[0] === active),
      `${active} stayed active: ${JSON.stringify(samples)}`,
    );
    await nodes.until(
      'coordination healthy on the new primary',
      async () => (await coordination(nodes, active)).coordination.healthy,
      30_000,
    );
    assert.ok((await coordination(nodes, active)).epoch >= epoch);
  });
});
