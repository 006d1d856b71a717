import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SystemState } from '../../src/monitor/schemas.ts';
import { SystemStateSchema } from '../../src/monitor/schemas.ts';
import { clusterTopology } from '../harness/cluster.ts';
import { ClusterNodes } from '../harness/cluster-nodes.ts';
import type { RedisServer } from '../harness/redis.ts';
import { startRedis } from '../harness/redis.ts';

/**
 * Starts: one Redis and two mware node processes on loopback, mware1 (group 1) and mware2 (group 2). The system
 * state asked of either covers both, over the node channel.
 */

let redis: RedisServer;
let nodes: ClusterNodes;

before(async () => {
  redis = await startRedis();
  nodes = new ClusterNodes(
    await clusterTopology({
      redisUrl: redis.url,
      groups: [
        { group: 1, members: 1 },
        { group: 2, members: 1, include_domains: ['sales.test.rootdomain.ru'] },
      ],
    }),
  );
  for (const n of ['mware1', 'mware2']) nodes.start(n);
  await Promise.all([nodes.settled(1, 60_000), nodes.settled(2, 60_000)]);
});
after(async () => {
  await nodes?.stop();
  await redis?.stop();
});

async function state(name: string): Promise<SystemState> {
  const r = await nodes.get(name, '/api/monitor/v1/system/state');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const s = SystemStateSchema.parse(r.body);
  // The machine's own load (other tests run beside this one) is not this test's to control.
  return { ...s, deviations: s.deviations.filter((d) => d.kind !== 'cpu-load') };
}

describe('the system state of a cluster of two nodes in two groups', { timeout: 90_000 }, () => {
  it('is collected from every node, whichever node is asked: healthy, each node with its role', async () => {
    for (const asked of ['mware1', 'mware2']) {
      const s = await state(asked);
      assert.equal(s.collected_by, asked);
      assert.deepEqual(s.deviations, [], JSON.stringify(s.deviations));
      assert.deepEqual(
        s.nodes.map((n) => [n.name, n.group, n.role, n.reachable]),
        [
          ['mware1', 1, 'active', true],
          ['mware2', 2, 'active', true],
        ],
      );
    }
  });

  it('names a node that died, and its group left without an active, in bounded time; since holds while it lasts', async () => {
    await nodes.node('mware2').process.stop('SIGKILL');
    const t0 = performance.now();
    const s = await state('mware1');
    const took = performance.now() - t0;
    assert.ok(took < 4_000, `answered in ${Math.round(took)} ms`);
    assert.deepEqual(
      s.deviations.map((d) => [d.kind, d.severity, d.node ?? null, d.site]),
      [
        ['group-inactive', 'critical', null, 'main'],
        ['node-unreachable', 'critical', 'mware2', 'main'],
      ],
    );
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.reachable]),
      [
        ['mware1', true],
        ['mware2', false],
      ],
    );
    const again = await state('mware1');
    assert.deepEqual(
      again.deviations.map((d) => d.since),
      s.deviations.map((d) => d.since),
    );
  });
});
