import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FsFarm } from '../../actors/freeswitch/farm.ts';
import type { CallEvent } from '../../src/freeswitch/call-events.ts';
import { callEvent } from '../support/call-events.ts';

/**
 * The farm board's call-event stream as a reader that polls `events` sees it: a sequence number per event, a bounded
 * buffer that says what a slow reader missed, and a stream id, because the next active instance's board numbers from
 * 1 again — a reader resuming there with the previous board's number would otherwise skip the new events silently.
 */

const event = (uuid: string, kind: CallEvent['kind'] = 'created'): CallEvent => callEvent({ uuid, kind });

describe('the farm’s call-event stream', () => {
  it('reads on from a sequence number of its own stream', () => {
    const farm = new FsFarm(['fs01']);
    for (const u of ['a', 'b', 'c']) farm.publish(event(u));
    const r = farm.since(1, 10, farm.stream);
    assert.deepEqual(
      r.events.map((e) => [e.seq, e.uuid]),
      [
        [2, 'b'],
        [3, 'c'],
      ],
    );
    assert.deepEqual([r.next, r.missed, r.stream, r.restarted], [3, 0, farm.stream, false]);
    assert.deepEqual(farm.since(3, 10, farm.stream).events, []);
    assert.equal(farm.since(0, 2).next, 2, 'at most limit, and next is the last one given');
  });

  it('reads a new active’s stream from its start when the reader names an earlier stream', () => {
    const before = new FsFarm(['fs01']);
    for (const u of ['a', 'b', 'c', 'd', 'e']) before.publish(event(u));
    const { next, stream } = before.since(0, 10);
    assert.equal(next, 5);
    // The group fails over: the new active's board starts again at 1.
    const after = new FsFarm(['fs01']);
    assert.notEqual(after.stream, stream);
    after.publish(event('f'));
    after.publish(event('g'));
    const r = after.since(next, 10, stream);
    assert.deepEqual(
      r.events.map((e) => e.uuid),
      ['f', 'g'],
    );
    assert.deepEqual([r.next, r.missed, r.stream, r.restarted], [2, 0, after.stream, true]);
    // Without its stream a reader cannot tell: it would wait for number 6 and miss f and g.
    assert.deepEqual(after.since(next, 10).events, []);
  });

  it('counts what left the bounded buffer before a slow reader came back', () => {
    const farm = new FsFarm(['fs01']);
    for (let i = 0; i < 12_000; i++) farm.publish(event(`u${i}`));
    const r = farm.since(0, 5, farm.stream);
    assert.ok(r.missed > 0 && r.missed <= 2_000, `missed ${r.missed}`);
    assert.equal(r.events[0]?.seq, r.missed + 1, 'the first event held follows the missed ones');
  });
});
