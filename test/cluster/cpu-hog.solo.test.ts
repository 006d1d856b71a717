import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noFalseFailover } from '../harness/cpu-hog.ts';

/**
 * No false failover: 60 s with every core saturated by spinning processes and steady requests to both members of a
 * group — leadership never changes. (A `.solo` file: the runner gives it the machine alone, after the others, since
 * it saturates every core on purpose. The 10-minute soak is `node bench/run.mjs soak`.)
 */

describe('a group whose machine is saturated', { timeout: 180_000 }, () => {
  it('keeps its active and its epoch for 60 s with every core busy and requests flowing', async () => {
    const r = await noFalseFailover({ seconds: 60 });
    process.stdout.write(`# cpu hog: ${JSON.stringify(r)}\n`);
    assert.equal(r.actives.length, 1, `one active throughout: ${r.actives.join(' → ')}`);
    assert.equal(r.epochs[0], r.epochs[1], 'the same epoch at the end');
    assert.equal(r.badSamples, 0, 'never none and never two active');
    assert.ok(r.requests > 100, `requests made: ${r.requests}`);
    assert.equal(r.failed, 0, `every request answered (${r.failed} of ${r.requests} failed)`);
  });
});
