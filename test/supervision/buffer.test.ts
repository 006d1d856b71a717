import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingBuffer } from '../../src/supervision/buffer.ts';
import { ManualClock } from '../../src/supervision/clock.ts';

/** The buffer that holds messages for a child while it (re)starts. */

function buffer(clock: ManualClock, max = 10, maxWaitMs = 60_000) {
  const failed: string[] = [];
  const b = new PendingBuffer({ max, maxWaitMs }, clock, (m) => new Error(`${m.type} expired`));
  const hold = (type: string, timeoutMs: number) => {
    const p = b.hold(type, null, timeoutMs);
    void p?.then(undefined, () => failed.push(`${type}@${clock.now()}`));
    return p;
  };
  return { b, hold, failed };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('the restart buffer', () => {
  it('fails each held message at its own deadline, an earlier one held after a later one included', async () => {
    const clock = new ManualClock();
    const { hold, failed } = buffer(clock);
    void hold('slow', 5_000);
    void hold('fast', 100);
    void hold('middle', 1_000);
    await clock.advance(100);
    await settle();
    assert.deepEqual(failed, ['fast@100']);
    await clock.advance(900);
    await settle();
    assert.deepEqual(failed, ['fast@100', 'middle@1000']);
    await clock.advance(4_000);
    await settle();
    assert.deepEqual(failed, ['fast@100', 'middle@1000', 'slow@5000']);
  });

  it('waits no longer than its own bound, whatever the message’s deadline', async () => {
    const clock = new ManualClock();
    const { hold, failed } = buffer(clock, 10, 300);
    void hold('long', 60_000);
    await clock.advance(300);
    await settle();
    assert.deepEqual(failed, ['long@300']);
  });

  it('refuses a message beyond its size, and hands over what it holds in order', () => {
    const clock = new ManualClock();
    const { b, hold } = buffer(clock, 2);
    assert.ok(hold('a', 1_000));
    assert.ok(hold('b', 1_000));
    assert.equal(hold('c', 1_000), undefined);
    assert.deepEqual(
      b.takeAll().map((m) => m.type),
      ['a', 'b'],
    );
    assert.equal(b.size, 0);
    assert.equal(clock.pending, 0, 'no timer left armed');
  });
});
