import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MutexService } from '../../actors/mutex/mutex-service.ts';
import type { LockReply } from '../../actors/mutex/protocol.ts';
import { ManualClock } from '../../src/supervision/clock.ts';
import { mutexesChild } from '../../supervisors/mutexes.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
import { silentLogger } from '../../src/log/log.ts';
import type { StateStore, StoredState } from '../../src/state/store.ts';
import { actorWorld, sharedComedy } from '../support/actor-world.ts';

/** The mutex service of 06-services.md through its real actors, on a manual clock. */

const comedy = sharedComedy();

/** A state store in memory whose writes can be held back, to see what is acknowledged before it is saved. */
class MemoryStore implements StateStore {
  readonly data = new Map<string, StoredState>();
  hold = false;
  private held: (() => void)[] = [];
  async load(key: string) {
    return this.data.get(key);
  }
  save(key: string, value: unknown, epoch: number): Promise<void> {
    this.data.set(key, { epoch, value: structuredClone(value) });
    if (!this.hold) return Promise.resolve();
    return new Promise((r) => this.held.push(r));
  }
  async delete(key: string, _epoch: number) {
    this.data.delete(key);
  }
  async keys(prefix: string) {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix));
  }
  async close() {}
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }
}

async function mutexWorld(opts: { idleMs?: number; store?: MemoryStore; epoch?: number } = {}) {
  const clock = new ManualClock(0, Date.UTC(2026, 10, 21));
  const w = actorWorld(comedy(), { clock });
  const store = opts.store ?? new MemoryStore();
  w.runtime.state = {
    durable: true,
    load: async (k) => (await store.load(k))?.value,
    save: (k, v) => store.save(k, v, opts.epoch ?? 1),
    delete: (k) => store.delete(k, opts.epoch ?? 1),
    keys: (prefix) => store.keys(prefix),
  };
  const service = new MutexService({
    runtime: w.runtime,
    mode: 'in-memory',
    epoch: () => opts.epoch ?? 1,
    ownsKey: () => true,
    leading: () => true,
    log: silentLogger(),
    clock,
    idleMs: opts.idleMs ?? 60_000,
  });
  const root = new Supervisor(
    '/',
    compileFlags({ intensity: 10 }),
    [mutexesChild(service, await service.restoredChildren())],
    w.env,
  );
  await root.start();
  const settle = () => clock.advance(0);
  return { clock, w, store, service, root, settle, stop: () => root.stop('infinity') };
}

const granted = (r: LockReply): number => {
  assert.ok(r.granted, `not granted: ${JSON.stringify(r)}`);
  return r.token;
};
const code = (e: unknown) => (e as { code?: string }).code;

describe('the mutex service', () => {
  it('grants a free key at once, with a fencing token and its expiry', async () => {
    const m = await mutexWorld();
    const r = await m.service.lock('orders-42', { owner: 'script-1', hold_ms: 5_000 });
    assert.ok(r.granted);
    assert.ok(r.token > 0);
    assert.equal(r.expires_at, m.clock.wallNow() + 5_000);
    assert.equal(m.w.env.directory.get('/mutexes/orders-42')?.state, 'running', 'one actor per live key');
    await m.stop();
  });

  it('makes waiters queue first come first served', async () => {
    const m = await mutexWorld();
    const a = granted(await m.service.lock('k', { owner: 'a' }));
    const order: string[] = [];
    const b = m.service.lock('k', { owner: 'b', wait_ms: 10_000 }).then((r) => (order.push('b'), r));
    await m.settle();
    const c = m.service.lock('k', { owner: 'c', wait_ms: 10_000 }).then((r) => (order.push('c'), r));
    await m.settle();
    await m.service.unlock('k', { owner: 'a', token: a });
    const bt = granted(await b);
    assert.deepEqual(order, ['b']);
    await m.service.unlock('k', { owner: 'b', token: bt });
    granted(await c);
    assert.deepEqual(order, ['b', 'c']);
    await m.stop();
  });

  it('answers timeout when the wait runs out, and lets the next waiter through', async () => {
    const m = await mutexWorld();
    granted(await m.service.lock('k', { owner: 'a', mode: 'read' }));
    const writer = m.service.lock('k', { owner: 'w', wait_ms: 1_000 });
    await m.settle();
    const reader = m.service.lock('k', { owner: 'r', mode: 'read', wait_ms: 5_000 });
    await m.clock.advance(999);
    await m.clock.advance(1);
    assert.deepEqual(await writer, { granted: false, reason: 'timeout', remaining: 0 });
    granted(await reader);
    await m.stop();
  });

  it('answers at once when nothing may wait (wait_ms 0)', async () => {
    const m = await mutexWorld();
    granted(await m.service.lock('k', { owner: 'a' }));
    assert.equal((await m.service.lock('k', { owner: 'b' })).granted, false);
    await m.stop();
  });

  it('releases a hold when its hold time passes, whatever its owner does', async () => {
    const m = await mutexWorld();
    const a = granted(await m.service.lock('k', { owner: 'a', hold_ms: 500 }));
    const b = m.service.lock('k', { owner: 'b', wait_ms: 10_000 });
    await m.clock.advance(500);
    const bt = granted(await b);
    assert.ok(bt > a);
    await assert.rejects(
      m.service.unlock('k', { owner: 'a', token: a }),
      (e) => code(e) === 'MW_ERR_MUTEX_STALE_TOKEN',
    );
    await m.stop();
  });

  it('rejects unlock with a stale or foreign token', async () => {
    const m = await mutexWorld();
    const a = granted(await m.service.lock('k', { owner: 'a' }));
    await assert.rejects(
      m.service.unlock('k', { owner: 'b', token: a }),
      (e) => code(e) === 'MW_ERR_MUTEX_STALE_TOKEN',
    );
    await m.service.unlock('k', { owner: 'a', token: a });
    await assert.rejects(
      m.service.unlock('k', { owner: 'a', token: a }),
      (e) => code(e) === 'MW_ERR_MUTEX_STALE_TOKEN',
    );
    await m.stop();
  });

  it('releases every hold and wait of an owner whose script ended, on every key', async () => {
    const m = await mutexWorld();
    granted(await m.service.lock('k1', { owner: 'gone' }));
    granted(await m.service.lock('k2', { owner: 'gone' }));
    granted(await m.service.lock('k3', { owner: 'other' }));
    const wait = m.service.lock('k3', { owner: 'gone', wait_ms: 60_000 });
    const next = m.service.lock('k1', { owner: 'next', wait_ms: 60_000 });
    await m.settle();
    const r = await m.service.releaseOwner('gone');
    assert.deepEqual(r, { released: 2, cancelled: 1, keys: 3 });
    assert.deepEqual(await wait, { granted: false, reason: 'released' });
    granted(await next);
    assert.equal((await m.service.inspect('k3')).holders[0]?.owner, 'other');
    await m.stop();
  });

  it('does not acknowledge a grant before it is saved', async () => {
    const store = new MemoryStore();
    const m = await mutexWorld({ store });
    store.hold = true;
    let answered = false;
    const lock = m.service.lock('k', { owner: 'a' }).then((r) => ((answered = true), r));
    await m.settle();
    assert.equal(answered, false, 'answered before the state was saved');
    store.release();
    granted(await lock);
    await m.stop();
  });

  it('keeps its holders across a restart of the actor', async () => {
    const m = await mutexWorld();
    const a = granted(await m.service.lock('k', { owner: 'a', hold_ms: 60_000 }));
    const mutexes = m.w.env.directory.get('/mutexes')?.incarnation as Supervisor;
    await mutexes.restartChild('k');
    assert.equal((await m.service.lock('k', { owner: 'b' })).granted, false, 'still held after the restart');
    await m.service.unlock('k', { owner: 'a', token: a });
    granted(await m.service.lock('k', { owner: 'b' }));
    await m.stop();
  });

  it('restores the holders of a whole node, with their deadlines, and keeps tokens increasing in the new epoch', async () => {
    const store = new MemoryStore();
    const first = await mutexWorld({ store, epoch: 1 });
    const a = granted(await first.service.lock('k', { owner: 'a', hold_ms: 60_000 }));
    await first.stop();
    const second = await mutexWorld({ store, epoch: 2 });
    assert.equal(
      second.w.env.directory.get('/mutexes/k')?.state,
      'running',
      'a key with holders is started with the node',
    );
    const info = await second.service.inspect('k');
    assert.deepEqual(
      info.holders.map((h) => [h.owner, h.token]),
      [['a', a]],
    );
    const b = second.service.lock('k', { owner: 'b', wait_ms: 120_000 });
    await second.service.releaseOwner('a');
    const bt = granted(await b);
    assert.ok(bt > a, `token ${bt} after ${a}`);
    await second.stop();
  });

  it('stops an idle mutex actor and brings it back, with monotonic tokens, on the next request', async () => {
    const m = await mutexWorld({ idleMs: 1_000 });
    const a = granted(await m.service.lock('k', { owner: 'a' }));
    await m.service.unlock('k', { owner: 'a', token: a });
    await m.clock.advance(1_000);
    await m.settle();
    assert.equal(m.w.env.directory.get('/mutexes/k'), undefined, 'the idle actor is gone');
    const b = granted(await m.service.lock('k', { owner: 'b' }));
    assert.ok(b > a);
    await m.stop();
  });

  it('refuses bad requests as the caller’s mistake', async () => {
    const m = await mutexWorld();
    await assert.rejects(m.service.lock('', { owner: 'a' }), (e) => code(e) === 'MW_ERR_MUTEX_BAD_REQUEST');
    await assert.rejects(m.service.lock('k', { owner: '' }), (e) => code(e) === 'MW_ERR_MUTEX_BAD_REQUEST');
    await assert.rejects(
      m.service.lock('k', { owner: 'a', mode: 'exclusive' as 'write' }),
      (e) => code(e) === 'MW_ERR_MUTEX_BAD_REQUEST',
    );
    await assert.rejects(
      m.service.lock('k', { owner: 'a', hold_ms: 0 }),
      (e) => code(e) === 'MW_ERR_MUTEX_BAD_REQUEST',
    );
    granted(await m.service.lock('k', { owner: 'a' }));
    assert.equal(m.w.env.directory.get('/mutexes/k')?.restarts, 0, 'bad input never restarts the actor');
    await m.stop();
  });

  it('refuses requests while the service is not running on the node', async () => {
    const m = await mutexWorld();
    await m.stop();
    m.service.detach();
    await assert.rejects(m.service.lock('k', { owner: 'a' }), (e) => code(e) === 'MW_ERR_MUTEX_UNAVAILABLE');
  });

  it('forgets owners once they hold nothing', async () => {
    const m = await mutexWorld();
    const a = granted(await m.service.lock('k', { owner: 'a' }));
    assert.equal(m.service.trackedOwners(), 1);
    await m.service.unlock('k', { owner: 'a', token: a });
    await m.service.lock('k2', { owner: 'z', wait_ms: 0 }).then((r) => granted(r));
    await m.service.releaseOwner('z');
    assert.equal(m.service.trackedOwners(), 0);
    await m.stop();
  });
});
