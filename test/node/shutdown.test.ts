import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/log/log.ts';
import { runStopSteps } from '../../src/node/shutdown.ts';
import { ManualClock } from '../../src/supervision/clock.ts';

/** The stop sequence of a node: every step runs, in order, and the bounded part is cut short at its deadline. */

describe('the stop sequence', () => {
  it('runs every step in order, each after the previous one ended, a failing one included', async () => {
    const done: string[] = [];
    await runStopSteps(
      [
        { name: 'a', run: async () => void done.push('a') },
        {
          name: 'b',
          run: () => {
            done.push('b');
            throw new Error('b fails');
          },
        },
        { name: 'c', run: async () => void done.push('c') },
      ],
      { clock: new ManualClock(), log: silentLogger(), onLate: () => done.push('late') },
    );
    assert.deepEqual(done, ['a', 'b', 'c']);
  });

  it('cuts a bounded step short at the deadline (onLate), then runs the steps after it', async () => {
    const clock = new ManualClock();
    const done: string[] = [];
    const finished = runStopSteps(
      [
        { name: 'hangs', run: () => new Promise<void>(() => undefined), bounded: true },
        { name: 'after', run: () => void done.push('after') },
      ],
      { clock, log: silentLogger(), timeoutMs: 1_000, onLate: () => done.push('late') },
    );
    await clock.advance(999);
    assert.deepEqual(done, []);
    await clock.advance(1);
    await finished;
    assert.deepEqual(done, ['late', 'after']);
  });

  it('waits for an unbounded step however long it takes', async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const done: string[] = [];
    const finished = runStopSteps([{ name: 'store', run: () => new Promise<void>((r) => (release = r)) }], {
      clock,
      log: silentLogger(),
      timeoutMs: 10,
      onLate: () => done.push('late'),
    }).then(() => done.push('finished'));
    await clock.advance(60_000);
    assert.deepEqual(done, []);
    release();
    await finished;
    assert.deepEqual(done, ['finished']);
  });
});
