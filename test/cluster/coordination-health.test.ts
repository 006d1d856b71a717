import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { RedisKeys } from '../../src/coordination/keys.ts';
import { MwareNode } from '../../src/node/node.ts';
import type { TestCluster } from '../harness/cluster.ts';
import { CLUSTER_ENV, clusterTopology } from '../harness/cluster.ts';
import type { RedisServer } from '../harness/redis.ts';
import { startRedis } from '../harness/redis.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * The coordination's health and the group's leadership as operators see them (issue 7, item 6): `/metrics` and the
 * event stream of a node of a one-member group, in this process, over a real redis-server on 127.0.0.1 that the
 * test pauses (SIGSTOP) and resumes, and whose lease it overwrites to make leadership change hands.
 */

const VIEWER = 'viewer-token-0123456789abcdef';
let redis: RedisServer;
let cluster: TestCluster;
let node: MwareNode;
let admin: Redis;
const dir = tempDir('coordination-health');
const logLines: string[] = [];

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url, { lazyConnect: true });
  await admin.connect();
  cluster = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 9, members: 1 }] });
  const security = cluster.topology.security as { api_tokens: object[] };
  security.api_tokens.push({ name: 'viewer', token: VIEWER, scopes: ['calls'] });
  const file = join(dir.path, 'cluster.yaml');
  writeFileSync(file, stringify(cluster.topology));
  Object.assign(process.env, CLUSTER_ENV);
  node = await MwareNode.start({
    topologyFile: file,
    dataDir: join(dir.path, 'data'),
    logLevel: 'info',
    logDestination: new Writable({
      write(chunk: Buffer, _e, cb) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    }),
  });
});
after(async () => {
  redis.process.signal('SIGCONT');
  await node?.stop();
  admin?.disconnect();
  await redis.stop();
  dir.cleanup();
});

const url = (path: string) => cluster.url('mware1') + path;
const call = (path: string, token = CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN, signal?: AbortSignal) =>
  fetch(url(path), { headers: { authorization: `Bearer ${token}` }, signal });

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (await Promise.resolve(fn()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`not within ${ms} ms: ${what}\n${logLines.slice(-15).join('\n')}`);
}

/** The value of one metric series of the group (labels in prom-client's order). */
async function metric(name: string): Promise<number> {
  const text = await (await call('/metrics')).text();
  const m = new RegExp(`^${name}\\{group="9",node="mware1"\\} (\\S+)$`, 'm').exec(text);
  assert.ok(
    m,
    `${name} in:\n${text
      .split('\n')
      .filter((l) => l.includes('coordination'))
      .join('\n')}`,
  );
  return Number(m[1]);
}

/** An event stream held open, its events parsed as they come. */
function follow(token: string) {
  const ac = new AbortController();
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const done = (async () => {
    const res = await call('/api/v1/events', token, ac.signal);
    assert.equal(res.status, 200);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as ReadableStream<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) events.push({ type, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  })().catch(() => undefined);
  return {
    events,
    of: (type: string) => events.filter((e) => e.type === type).map((e) => e.data),
    close: async () => {
      ac.abort();
      await done;
    },
  };
}

describe('coordination health and leadership, as operators see them', { timeout: 60_000 }, () => {
  it('shows a healthy coordination, this node leading, its epoch and the live members in /metrics', async () => {
    await until('mware1 active', async () => (await fetch(url('/active'))).status === 200);
    const epoch = Number(await admin.get(new RedisKeys('testcluster').epoch(9)));
    assert.equal(await metric('mware_coordination_healthy'), 1);
    assert.equal(await metric('mware_coordination_leader'), 1);
    assert.equal(await metric('mware_coordination_epoch'), epoch);
    assert.equal(await metric('mware_coordination_leadership_changes_total'), 1, 'its own, at start');
    assert.equal(await metric('mware_cluster_members_live'), 1);
  });

  it('tells the event stream when Redis stops answering and when it answers again: why, for admins only', async () => {
    const asAdmin = follow(CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN);
    const asViewer = follow(VIEWER);
    try {
      await until('both streams open', () => asAdmin.of('hello').length + asViewer.of('hello').length === 2);
      assert.deepEqual(asAdmin.of('hello')[0]?.coordination, { kind: 'redis', healthy: true });
      redis.process.signal('SIGSTOP');
      await until('coordination unhealthy on both streams', () =>
        [asAdmin, asViewer].every((s) => s.of('coordination').length === 1),
      );
      assert.equal(await metric('mware_coordination_healthy'), 0);
      type View = { coordination: { healthy: boolean; detail?: string } };
      const during = (await (await call('/api/v1/cluster')).json()) as View;
      redis.process.signal('SIGCONT');
      await until('healthy again on both streams', () =>
        [asAdmin, asViewer].every((s) => s.of('coordination').length === 2),
      );
      const [down, up] = asAdmin.of('coordination');
      assert.equal(down?.healthy, false);
      assert.equal(typeof down?.detail, 'string', 'an admin sees why');
      assert.deepEqual(up, { node: 'mware1', group: 9, healthy: true, detail: up?.detail });
      assert.deepEqual(asViewer.of('coordination'), [
        { node: 'mware1', group: 9, healthy: false },
        { node: 'mware1', group: 9, healthy: true },
      ]);
      assert.equal(during.coordination.healthy, false, 'the cluster view says so too');
      assert.equal(typeof during.coordination.detail, 'string', 'and why, to an admin');
      const viewerCluster = (await (await call('/api/v1/cluster', VIEWER)).json()) as View;
      assert.deepEqual(Object.keys(viewerCluster.coordination).sort(), ['healthy', 'kind']);
      assert.equal(await metric('mware_coordination_healthy'), 1);
      assert.ok(logLines.some((l) => l.includes('"msg":"coordination unhealthy"')));
      assert.ok(logLines.some((l) => l.includes('"msg":"coordination healthy again"')));
    } finally {
      redis.process.signal('SIGCONT');
      await asAdmin.close();
      await asViewer.close();
    }
  });

  it('tells the event stream and counts it when leadership changes hands', async () => {
    const stream = follow(VIEWER);
    const keys = new RedisKeys('testcluster');
    try {
      await until('stream open', () => stream.of('hello').length === 1);
      const before = await metric('mware_coordination_leadership_changes_total');
      const epoch = Number(await admin.get(keys.epoch(9)));
      // Another holder takes the lease with a later epoch, as an acquisition would, for two seconds: mware1 loses
      // it at its next renewal, then takes it back once it expires, with an epoch above the other's.
      await admin
        .multi()
        .set(keys.epoch(9), String(epoch + 10))
        .set(keys.lease(9), `${epoch + 10}:elsewhere:x`, 'PX', 2_000)
        .exec();
      await until('leadership back on mware1', () =>
        stream.of('leadership').some((e) => e.holder === 'mware1'),
      );
      const changes = stream
        .of('leadership')
        .filter((e) => e.takeover === true)
        .map((e) => [e.holder, e.epoch]);
      assert.deepEqual(changes, [
        ['elsewhere', epoch + 10],
        ['mware1', epoch + 11],
      ]);
      assert.equal(await metric('mware_coordination_leadership_changes_total'), before + 2);
      await until('mware1 active again', async () => (await fetch(url('/active'))).status === 200);
      assert.equal(await metric('mware_coordination_epoch'), epoch + 11);
      assert.equal(await metric('mware_coordination_leader'), 1);
    } finally {
      await stream.close();
    }
  });
});
