import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LockMode, TokenSource } from '../../actors/mutex/lock-table.ts';
import { LockTable } from '../../actors/mutex/lock-table.ts';
import { FencingTokens, TOKEN_EPOCH_FACTOR } from '../../actors/mutex/fencing-tokens.ts';

const NOW = 1_000_000;

/** Tokens 1, 2, 3, … (the node's sequence, for one key). */
function counter(): TokenSource {
  let n = 0;
  return { nextToken: () => ++n };
}

describe('a lock table', () => {
  it('grants a write lock to one owner at a time', () => {
    const t = new LockTable(counter());
    assert.ok(t.tryGrant('a', 'write', 1000, NOW), 'the first writer');
    assert.equal(t.tryGrant('b', 'write', 1000, NOW), undefined);
    assert.equal(t.tryGrant('c', 'read', 1000, NOW), undefined);
  });

  it('shares a read lock among readers but not with a writer', () => {
    const t = new LockTable(counter());
    assert.ok(t.tryGrant('a', 'read', 1000, NOW), 'the first reader');
    assert.ok(t.tryGrant('b', 'read', 1000, NOW), 'a second reader');
    assert.equal(t.tryGrant('w', 'write', 1000, NOW), undefined);
  });

  it('makes a reader wait behind a waiting writer, so readers never starve writers', () => {
    const t = new LockTable(counter());
    t.tryGrant('r1', 'read', 1000, NOW);
    t.enqueue('w', 'write', 1000, 0, 9e9, 'w');
    assert.equal(t.tryGrant('r2', 'read', 1000, NOW), undefined, 'r2 must queue behind the writer');
  });

  it('grants waiters in arrival order, a run of readers at the head together', () => {
    const t = new LockTable<string>(counter());
    const first = t.tryGrant('w0', 'write', 1000, NOW);
    for (const [o, m] of [
      ['r1', 'read'],
      ['r2', 'read'],
      ['w3', 'write'],
      ['r4', 'read'],
    ] as [string, LockMode][])
      t.enqueue(o, m, 1000, 0, 9e9, o);
    assert.ok(first && t.release('w0', first.token), 'w0 held the lock and released it');
    assert.deepEqual(
      t.promote(NOW).map((g) => g.waiter.ticket),
      ['r1', 'r2'],
    );
    t.releaseOwner('r1');
    t.releaseOwner('r2');
    assert.deepEqual(
      t.promote(NOW).map((g) => g.waiter.ticket),
      ['w3'],
    );
    t.releaseOwner('w3');
    assert.deepEqual(
      t.promote(NOW).map((g) => g.waiter.ticket),
      ['r4'],
    );
  });

  it('releases a hold only with its owner and current token', () => {
    const t = new LockTable(counter());
    const h = t.tryGrant('a', 'write', 1000, NOW);
    assert.ok(h, 'granted');
    assert.equal(t.release('b', h.token), false, 'another owner');
    assert.equal(t.release('a', h.token + 1), false, 'another token');
    assert.equal(t.release('a', h.token), true);
    assert.equal(t.release('a', h.token), false, 'already released');
  });

  it('ends holds at their expiry time', () => {
    const t = new LockTable(counter());
    t.tryGrant('a', 'write', 500, NOW);
    assert.deepEqual(t.expire(NOW + 499), []);
    assert.deepEqual(
      t.expire(NOW + 500).map((h) => h.owner),
      ['a'],
    );
    assert.ok(t.idle, 'nothing left');
  });

  it('releases everything an owner holds and cancels its waits', () => {
    const t = new LockTable<string>(counter());
    t.tryGrant('a', 'read', 1000, NOW);
    t.tryGrant('b', 'read', 1000, NOW);
    t.enqueue('w', 'write', 1000, 0, 9e9, 'w1');
    t.enqueue('a', 'write', 1000, 0, 9e9, 'a-wait');
    const r = t.releaseOwner('a');
    assert.equal(r.released, 1);
    assert.deepEqual(
      r.cancelled.map((w) => w.ticket),
      ['a-wait'],
    );
    assert.deepEqual(
      t.holders.map((h) => h.owner),
      ['b'],
    );
  });

  it('hands out the tokens of its source, and carries restored holders with their own', () => {
    const tokens = new FencingTokens();
    const t = new LockTable({ nextToken: () => tokens.next('k', 3) });
    const a = t.tryGrant('a', 'read', 1000, NOW);
    const b = t.tryGrant('b', 'read', 1000, NOW);
    assert.deepEqual([a?.token, b?.token], [3 * TOKEN_EPOCH_FACTOR + 1, 3 * TOKEN_EPOCH_FACTOR + 2]);
    const again = new LockTable({ nextToken: () => tokens.next('k', 3) }, t.state());
    assert.deepEqual(
      again.holders.map((h) => [h.owner, h.token]),
      [
        ['a', a?.token],
        ['b', b?.token],
      ],
    );
    assert.equal(again.tryGrant('c', 'read', 1000, NOW)?.token, 3 * TOKEN_EPOCH_FACTOR + 3);
  });

  it('is idle only with neither a holder nor a waiter', () => {
    const t = new LockTable<string>(counter());
    assert.equal(t.idle, true, 'new');
    const h = t.tryGrant('a', 'write', 1000, NOW);
    assert.ok(h, 'granted');
    assert.equal(t.idle, false, 'a holder and no waiter');
    const w = t.enqueue('b', 'write', 1000, 0, 9e9, 'b');
    assert.equal(t.idle, false, 'a holder and a waiter');
    t.release('a', h.token);
    assert.equal(t.idle, false, 'a waiter and no holder');
    t.dropWaiter(w.id);
    assert.equal(t.idle, true, 'all gone');
  });

  it('counts the holds of each owner', () => {
    const t = new LockTable(counter());
    t.tryGrant('a', 'read', 1000, NOW);
    t.tryGrant('b', 'read', 1000, NOW);
    t.tryGrant('a', 'read', 1000, NOW);
    assert.deepEqual(
      ['a', 'b', 'c'].map((o) => t.holdsOf(o)),
      [2, 1, 0],
    );
  });

  it('drops a waiter by its id wherever it stands in the queue, and only that one', () => {
    const t = new LockTable<string>(counter());
    t.tryGrant('h', 'write', 1000, NOW);
    const [w1, w2, w3] = ['w1', 'w2', 'w3'].map((o) => t.enqueue(o, 'write', 1000, 0, 9e9, o));
    assert.ok(w1 && w2 && w3, 'three waiters');
    assert.equal(new Set([w1.id, w2.id, w3.id]).size, 3, 'each waiter has its own id');
    assert.equal(t.dropWaiter(w2.id), true, 'the middle one');
    assert.deepEqual(
      t.queue.map((w) => w.ticket),
      ['w1', 'w3'],
    );
    assert.equal(t.dropWaiter(w2.id), false, 'no longer waiting');
    assert.equal(t.dropWaiter(w3.id + 1000), false, 'never waited');
    assert.deepEqual(
      t.queue.map((w) => w.ticket),
      ['w1', 'w3'],
      'dropping an unknown id leaves the queue as it was',
    );
    assert.equal(t.dropWaiter(w1.id), true, 'the head');
    assert.deepEqual(
      t.queue.map((w) => w.ticket),
      ['w3'],
    );
  });

  it('takes an owner’s waiters out of the queue when it releases everything, keeping the others in order', () => {
    const t = new LockTable<string>(counter());
    t.tryGrant('h', 'write', 1000, NOW);
    t.enqueue('a', 'read', 1000, 0, 9e9, 'a1');
    t.enqueue('b', 'read', 1000, 0, 9e9, 'b1');
    t.enqueue('a', 'write', 1000, 0, 9e9, 'a2');
    t.enqueue('c', 'write', 1000, 0, 9e9, 'c1');
    const r = t.releaseOwner('a');
    assert.equal(r.released, 0);
    assert.deepEqual(
      r.cancelled.map((w) => w.ticket),
      ['a1', 'a2'],
    );
    assert.deepEqual(
      t.queue.map((w) => w.ticket),
      ['b1', 'c1'],
    );
    t.releaseOwner('h');
    assert.deepEqual(
      t.promote(NOW).map((g) => g.holder.owner),
      ['b'],
      'a cancelled waiter is never granted',
    );
  });

  it('ends only the holds whose time is up, and keeps the others', () => {
    const t = new LockTable(counter());
    t.tryGrant('a', 'read', 500, NOW);
    t.tryGrant('b', 'read', 1000, NOW);
    t.tryGrant('c', 'read', 500, NOW);
    assert.deepEqual(
      t.expire(NOW + 500).map((h) => h.owner),
      ['a', 'c'],
    );
    assert.deepEqual(
      t.holders.map((h) => h.owner),
      ['b'],
    );
    assert.equal(t.idle, false);
  });

  it('tells the earliest expiry of its holds, and none without a hold', () => {
    const t = new LockTable(counter());
    assert.equal(t.nextExpiry(), undefined);
    t.tryGrant('a', 'read', 3000, NOW);
    t.tryGrant('b', 'read', 1000, NOW);
    t.tryGrant('c', 'read', 2000, NOW);
    assert.equal(t.nextExpiry(), NOW + 1000);
    t.expire(NOW + 1000);
    assert.equal(t.nextExpiry(), NOW + 2000);
    t.expire(NOW + 3000);
    assert.equal(t.nextExpiry(), undefined);
  });

  it('never has a writer beside another holder, whatever happens', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('lock', 'unlock', 'expire', 'promote'),
            fc.constantFrom('a', 'b', 'c'),
            fc.constantFrom<LockMode>('read', 'write'),
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const t = new LockTable<null>(counter());
          let now = NOW;
          for (const [op, owner, mode] of ops) {
            now += 10;
            if (op === 'lock' && !t.tryGrant(owner, mode, 50, now)) t.enqueue(owner, mode, 50, 0, 9e9, null);
            if (op === 'unlock') t.releaseOwner(owner);
            if (op === 'expire') t.expire(now);
            if (op === 'promote') t.promote(now);
            const writers = t.holders.filter((h) => h.mode === 'write').length;
            assert.ok(writers === 0 || t.holders.length === 1, JSON.stringify(t.holders));
          }
        },
      ),
    );
  });
});
