import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { MwareRole } from '../../topology/schema.ts';
import { RedisKeys } from '../../src/coordination/keys.ts';
import type { CoordinationEvent } from '../../src/coordination/backend.ts';
import { RedisCoordination } from '../../src/coordination/redis.ts';
import { redisClient, stayConnected } from '../../src/coordination/redis-client.ts';
import { RedisStateStore } from '../../src/state/redis-store.ts';
import { silentLogger } from '../../src/log/log.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import { systemClock } from '../../src/supervision/clock.ts';
import type { RedisServer } from '../harness/redis.ts';
import { startRedis } from '../harness/redis.ts';

/** Group leadership over a real redis-server (02-runtime.md "Cluster coordination"). */

let server: RedisServer;
const clients: Redis[] = [];
before(async () => {
  server = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
});

let groupSeq = 100;
const member = (name: string, order: number, ext: Record<string, unknown> = {}) =>
  ({ name, order, group: 0, ext }) as unknown as MwareRole;

/** A clock that can be made to jump ahead, as a process finds after a stall. */
class JumpClock implements Clock {
  offset = 0;
  now = () => systemClock.now() + this.offset;
  wallNow = () => systemClock.wallNow() + this.offset;
  setTimeout: Clock['setTimeout'] = (fn, ms) => systemClock.setTimeout(fn, ms);
  clearTimeout: Clock['clearTimeout'] = (h) => systemClock.clearTimeout(h);
}

function world(o: { ttlMs?: number; members?: MwareRole[] } = {}) {
  const group = groupSeq++;
  const members = o.members ?? [member('a', 10), member('b', 20)];
  const keys = new RedisKeys('test');
  const live = new Set(members.map((m) => m.name));
  const redis = () => {
    const c = new Redis(server.url, { enableOfflineQueue: true, maxRetriesPerRequest: 0 });
    clients.push(c);
    return c;
  };
  const coordination = (name: string, clock: Clock = systemClock) =>
    new RedisCoordination({
      redis: redis(),
      keys,
      group,
      self: members.find((m) => m.name === name) as MwareRole,
      members,
      ttlMs: o.ttlMs ?? 600,
      renewMs: 100,
      clock,
      log: silentLogger(),
      view: { candidates: () => live, confirmStandby: async () => false },
    });
  return { group, keys, live, redis, coordination };
}

const settled = <T>(p: Promise<T>) => {
  let state: 'pending' | 'done' = 'pending';
  void p.then(
    () => (state = 'done'),
    () => (state = 'done'),
  );
  return () => state;
};

describe('group leadership over Redis', () => {
  it('gives the lease to one member, with a new epoch at every acquisition', async () => {
    const w = world();
    const a = w.coordination('a');
    const b = w.coordination('b');
    const la = await a.acquire();
    const waiting = b.acquire();
    const state = settled(waiting);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(state(), 'pending', 'b waits while a renews its lease');
    assert.ok(a.leading());
    const t0 = performance.now();
    await a.release();
    const lb = await waiting;
    assert.ok(performance.now() - t0 < 500, 'a release hands over at once');
    assert.equal(lb.epoch, la.epoch + 1);
    assert.equal(a.leading(), false);
    await Promise.all([a.close(), b.close()]);
  });

  it('lets the lowest live order take a free lease; a higher one only when the lower is not alive', async () => {
    const w = world();
    const b = w.coordination('b');
    const a = w.coordination('a');
    const [wb, wa] = [b.acquire(), a.acquire()];
    const first = await Promise.race([wa.then(() => 'a'), wb.then(() => 'b')]);
    assert.equal(first, 'a');
    await a.close();
    await wb;
    await b.close();
    // With a not alive, b takes a free lease without waiting for it.
    const w2 = world();
    w2.live.delete('a');
    const b2 = w2.coordination('b');
    await b2.acquire();
    assert.ok(b2.leading());
    await b2.close();
  });

  it('stops acting as soon as its clock says the term could be over, before any timer has fired', async () => {
    const w = world({ ttlMs: 1_000 });
    const clock = new JumpClock();
    const a = w.coordination('a', clock);
    const lost: string[] = [];
    a.onLost((r) => lost.push(r));
    await a.acquire();
    assert.ok(a.leading());
    clock.offset = 2_000; // as after a stall longer than the lease
    assert.equal(a.leading(), false, 'read from the clock, at once');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(lost.length, 1, lost.join());
    await a.close();
  });

  it('notices at its next renewal that another member holds the lease now', async () => {
    const w = world();
    const a = w.coordination('a');
    const lost: string[] = [];
    a.onLost((r) => lost.push(r));
    await a.acquire();
    const admin = w.redis();
    await admin.set(w.keys.lease(w.group), '99:b:xyz', 'PX', 5_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(lost, ['another member holds the lease now']);
    assert.equal(a.leading(), false);
    await a.close();
  });

  it('breaks the lease of a holder whose death is proven, and only that exact lease', async () => {
    const w = world({ ttlMs: 10_000 });
    const a = w.coordination('a');
    const b = w.coordination('b');
    const la = await a.acquire();
    // a "dies" without releasing: its renewals stop, its lease would last 10 s.
    (a as unknown as { stopHolding(): void }).stopHolding();
    const t0 = performance.now();
    const taking = b.acquire();
    await b.provenDead('c'); // not the holder: nothing happens
    assert.equal(await w.redis().exists(w.keys.lease(w.group)), 1);
    await b.provenDead('a');
    const lb = await taking;
    assert.ok(performance.now() - t0 < 1_000, `took over in ${Math.round(performance.now() - t0)} ms`);
    assert.equal(lb.epoch, la.epoch + 1);
    await Promise.all([a.close(), b.close()]);
  });

  it('takes an epoch above every one it has seen, even if Redis lost the counter (a promoted replica)', async () => {
    const w = world();
    const a = w.coordination('a');
    const la = await a.acquire();
    await a.release();
    const admin = w.redis();
    await admin.set(w.keys.epoch(w.group), '0'); // the counter as a replica that missed it would have it
    const b = w.coordination('b');
    b.noteEpoch(la.epoch + 41); // an epoch its peers advertised
    const lb = await b.acquire();
    assert.equal(lb.epoch, la.epoch + 42);
    await b.close();
  });

  it('keeps leading through a Redis restarted empty: the lease restored at the next renewal, the same epoch', async () => {
    const w = world({ ttlMs: 1_000 });
    const a = w.coordination('a');
    const lost: string[] = [];
    a.onLost((r) => lost.push(r));
    const la = await a.acquire();
    await w.redis().flushall(); // what a Redis restarted without persistence holds: nothing
    await new Promise((r) => setTimeout(r, 400)); // several renewals
    const restored = await w.redis().get(w.keys.lease(w.group));
    assert.equal(
      restored,
      (a as unknown as { lease: { raw: string } }).lease.raw,
      'the same lease value again',
    );
    assert.match(restored ?? '', new RegExp(`^${la.epoch}:a:`));
    assert.ok(a.leading(), 'a still leads');
    assert.deepEqual(lost, []);
    // Once a gives the lease up, b (which heard a's epoch over the node channel) takes one above it, though Redis
    // lost the counter.
    await a.release();
    const b = w.coordination('b');
    b.noteEpoch(la.epoch);
    const lb = await b.acquire();
    assert.ok(lb.epoch > la.epoch, `epoch ${lb.epoch} after ${la.epoch}`);
    await Promise.all([a.close(), b.close()]);
  });

  it('tells each new leadership once, after a first look that is only a baseline', async () => {
    const w = world();
    const a = w.coordination('a');
    const b = w.coordination('b');
    const seen = { a: [] as CoordinationEvent[], b: [] as CoordinationEvent[] };
    a.onEvent((e) => seen.a.push(e));
    b.onEvent((e) => seen.b.push(e));
    const la = await a.acquire();
    const waiting = b.acquire();
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(seen.b, [], 'b found a leading: not a change it saw');
    await a.release();
    const lb = await waiting;
    const takeovers = (es: CoordinationEvent[]) =>
      es.flatMap((e) => (e.type === 'leadership' && e.takeover ? [[e.holder, e.epoch]] : []));
    // a looked first at a free lease (its baseline), then took it: a new leadership.
    assert.deepEqual(takeovers(seen.a), [['a', la.epoch]]);
    assert.deepEqual(takeovers(seen.b), [['b', lb.epoch]]);
    assert.deepEqual(seen.a.at(-1), { type: 'leadership', holder: null, epoch: null, takeover: false });
    await Promise.all([a.close(), b.close()]);
  });

  it('has Redis itself refuse the state writes of a deposed holder', async () => {
    const w = world();
    const a = w.coordination('a');
    const b = w.coordination('b');
    const store = new RedisStateStore(w.redis(), w.keys, w.group, () => 0);
    const la = await a.acquire();
    await store.save('mutex:k', { holders: ['x'] }, la.epoch);
    await a.release();
    const lb = await b.acquire();
    await assert.rejects(
      store.save('mutex:k', { holders: ['stale'] }, la.epoch),
      (e: Error & { code?: string }) => e.code === 'MW_ERR_STALE_EPOCH',
    );
    await assert.rejects(
      store.delete('mutex:k', la.epoch),
      (e: Error & { code?: string }) => e.code === 'MW_ERR_STALE_EPOCH',
    );
    assert.deepEqual(await store.load('mutex:k'), { epoch: la.epoch, value: { holders: ['x'] } });
    await store.save('mutex:k', { holders: ['new'] }, lb.epoch);
    assert.deepEqual(await store.keys('mutex:'), ['mutex:k']);
    await b.close();
  });
});

describe('a node’s Redis connection', () => {
  it('is connected again when it ends while the node runs, and left closed once the node stops it', async () => {
    const redis = redisClient({ url: server.url }, { commandTimeoutMs: 500, name: 'stay' });
    redis.on('error', () => undefined);
    let revived = 0;
    const stop = stayConnected(redis, () => revived++, 20);
    await redis.connect();
    const ready = () => new Promise<void>((r) => redis.once('ready', () => r()));
    const again = ready();
    redis.disconnect(); // ends the connection for good, as ioredis' failover detector can while connecting
    await again;
    assert.equal(await redis.ping(), 'PONG');
    assert.equal(revived, 1);
    stop();
    redis.disconnect();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(redis.status, 'end', 'stopped: not connected again');
  });
});
