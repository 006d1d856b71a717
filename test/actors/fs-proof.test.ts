import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MigrationProof } from '../../actors/freeswitch/proof.ts';
import type { MigrationCall } from '../../actors/freeswitch/protocol.ts';
import type { CallEvent, CallEventKind } from '../../src/freeswitch/call-events.ts';

const call = (id: string, legs: string[], target = 'fs02'): MigrationCall => ({
  id,
  legs,
  target,
  outcome: 'handed',
  cause: null,
  domain: null,
  caller: null,
  callee: null,
  conference: null,
  recreated: 0,
  bridged: false,
});
const ev = (kind: CallEventKind, uuid: string, at: number, o: Partial<CallEvent> = {}): CallEvent => ({
  kind,
  host: 'fs02',
  uuid,
  callId: null,
  direction: null,
  domain: null,
  caller: null,
  callee: null,
  partner: null,
  conference: null,
  cause: null,
  recovered: kind === 'created',
  destination: null,
  recording: null,
  at,
  ...o,
});

describe('per-call proof of a migration', () => {
  it('a bridged call is re-created only when both legs came back and were bridged again', () => {
    const c = call('a', ['a', 'b']);
    const p = new MigrationProof([c], () => true);
    p.see(ev('created', 'a', 1000));
    p.see(ev('created', 'b', 1001));
    assert.equal(c.outcome, 'handed');
    p.see(ev('bridged', 'a', 1500, { partner: 'b' }));
    assert.equal(c.outcome, 'recreated');
    assert.equal(p.allRecreated(), true);
  });

  it('is moved only once the re-INVITE window has passed for every leg', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.see(ev('created', 'a', 1000));
    assert.equal(p.windowEnd(32_000), 33_000);
    p.closeWindows(32_999, 32_000);
    assert.equal(c.outcome, 'recreated');
    p.closeWindows(33_000, 32_000);
    assert.equal(c.outcome, 'moved');
  });

  it('a leg hung up with RECOVERY_ON_TIMER_EXPIRE loses the call, with that cause, even after re-creation', () => {
    const c = call('a', ['a', 'b']);
    const p = new MigrationProof([c], () => true);
    p.see(ev('created', 'a', 1));
    p.see(ev('created', 'b', 1));
    p.see(ev('bridged', 'a', 2));
    p.see(ev('ended', 'b', 32_001, { cause: 'RECOVERY_ON_TIMER_EXPIRE' }));
    assert.equal(c.outcome, 'lost');
    assert.equal(c.cause, 'RECOVERY_ON_TIMER_EXPIRE');
    p.closeWindows(100_000, 32_000);
    assert.equal(c.outcome, 'lost');
  });

  it('INCOMPATIBLE_DESTINATION right after the re-creation loses the call', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.see(ev('created', 'a', 1));
    p.see(ev('ended', 'a', 2, { cause: 'INCOMPATIBLE_DESTINATION' }));
    assert.deepEqual([c.outcome, c.cause], ['lost', 'INCOMPATIBLE_DESTINATION']);
  });

  it('events from another host than the call’s target prove nothing', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.see(ev('created', 'a', 1, { host: 'fs03' }));
    assert.equal(c.outcome, 'handed');
  });

  it('a CHANNEL_CREATE that is not a recovery (a new call reusing nothing) does not count', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.see(ev('created', 'a', 1, { recovered: false }));
    assert.equal(c.outcome, 'handed');
  });

  it('a party hanging up normally after the move leaves the call moved; before re-creation it failed', () => {
    const moved = call('m', ['m']);
    const early = call('e', ['e1', 'e2']);
    const p = new MigrationProof([moved, early], (c) => c.id === 'e');
    p.see(ev('created', 'm', 1));
    p.see(ev('ended', 'm', 5, { cause: 'NORMAL_CLEARING' }));
    p.see(ev('created', 'e1', 1));
    p.see(ev('ended', 'e1', 2, { cause: 'NORMAL_CLEARING' }));
    assert.equal(moved.outcome, 'moved');
    assert.equal(early.outcome, 'failed');
    assert.match(early.cause ?? '', /before it was re-created/);
  });

  it('what never came back is given up with the reason given', () => {
    const c = call('a', ['a', 'b']);
    const p = new MigrationProof([c], () => true);
    p.see(ev('created', 'a', 1));
    p.giveUpRecreation((x) => `${x.recreated} of ${x.legs.length}`);
    assert.deepEqual([c.outcome, c.cause], ['failed', '1 of 2']);
  });

  it('legs found live after a takeover count as re-created from then', () => {
    const c = call('a', ['a', 'b']);
    const p = new MigrationProof([c], () => true);
    p.seenLive('a', 10, true);
    p.seenLive('b', 10, true);
    assert.equal(c.outcome, 'recreated');
    assert.equal(p.windowEnd(100), 110);
  });

  for (const cause of [
    'RECOVERY_ON_TIMER_EXPIRE',
    'INCOMPATIBLE_DESTINATION',
    'DESTINATION_OUT_OF_ORDER',
    'NORMAL_TEMPORARY_FAILURE',
    'MEDIA_TIMEOUT',
    'NETWORK_OUT_OF_ORDER',
  ])
    it(`${cause} after the re-creation is a recovery failure: lost`, () => {
      const c = call('a', ['a']);
      const p = new MigrationProof([c], () => false);
      p.see(ev('created', 'a', 1));
      p.see(ev('ended', 'a', 2, { cause }));
      assert.deepEqual([c.outcome, c.cause], ['lost', cause]);
    });

  it('a hangup without a cause is reported as UNKNOWN', () => {
    const c = call('a', ['a', 'b']);
    const p = new MigrationProof([c], () => true);
    p.see(ev('ended', 'a', 2));
    assert.deepEqual([c.outcome, c.cause], ['failed', 'hung up (UNKNOWN) before it was re-created']);
  });

  it('a leg known to have ended is not brought back by a later look at the channels', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.seenEnded('a', 'RECOVERY_ON_TIMER_EXPIRE', 5);
    p.seenLive('a', 6, false);
    assert.deepEqual([c.outcome, c.cause, c.recreated], ['lost', 'RECOVERY_ON_TIMER_EXPIRE', 0]);
  });

  it('a hangup remembered by the farm (after a takeover) decides the call as an event would', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.seenLive('a', 1, false);
    p.seenEnded('a', 'INCOMPATIBLE_DESTINATION', 2);
    assert.deepEqual([c.outcome, c.cause], ['lost', 'INCOMPATIBLE_DESTINATION']);
    // The first cause counts: a second report does not change it.
    p.seenEnded('a', 'NORMAL_CLEARING', 3);
    assert.equal(c.cause, 'INCOMPATIBLE_DESTINATION');
  });

  it('all re-created means every call, not some', () => {
    const one = call('a', ['a']);
    const two = call('b', ['b']);
    const p = new MigrationProof([one, two], () => false);
    p.see(ev('created', 'a', 1));
    assert.equal(p.allRecreated(), false);
    p.see(ev('created', 'b', 1));
    assert.equal(p.allRecreated(), true);
  });

  it('giving up leaves the calls already re-created alone', () => {
    const done = call('a', ['a']);
    const waiting = call('b', ['b']);
    const p = new MigrationProof([done, waiting], () => false);
    p.see(ev('created', 'a', 1));
    p.giveUpRecreation(() => 'never came');
    assert.deepEqual([done.outcome, waiting.outcome], ['recreated', 'failed']);
  });

  it('the window closes with the last leg re-created; lost calls and calls without a target wait for nothing', () => {
    const two = call('a', ['a', 'b']);
    const lost = call('l', ['l']);
    const homeless = { ...call('h', ['h']), target: null, outcome: 'failed' as const };
    const p = new MigrationProof([two, lost, homeless], () => false);
    assert.equal(p.windowEnd(100), null);
    p.see(ev('created', 'a', 1_000));
    p.see(ev('created', 'b', 1_500));
    p.see(ev('created', 'l', 5_000));
    p.see(ev('ended', 'l', 5_001, { cause: 'INCOMPATIBLE_DESTINATION' }));
    p.see(ev('created', 'h', 9_000));
    assert.equal(p.windowEnd(100), 1_600);
    p.closeWindows(1_550, 100);
    assert.equal(two.outcome, 'recreated', 'moved before its second leg’s window closed');
    p.closeWindows(1_600, 100);
    assert.deepEqual([two.outcome, lost.outcome, homeless.outcome], ['moved', 'lost', 'failed']);
  });

  it('a moved call stays moved whatever happens to it later', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.see(ev('created', 'a', 1));
    p.closeWindows(1_000, 10);
    p.see(ev('ended', 'a', 2_000, { cause: 'MEDIA_TIMEOUT' }));
    assert.deepEqual([c.outcome, c.cause], ['moved', null]);
  });

  it('looks at legs outside the plan are ignored', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.seenLive('stranger', 1, true);
    p.seenEnded('stranger', 'NORMAL_CLEARING', 2);
    p.see(ev('created', 'stranger', 1));
    assert.equal(c.outcome, 'handed');
  });

  it('the window is the latest of the legs’ times, in whatever order they came', () => {
    const c = call('a', ['a', 'b']);
    const p = new MigrationProof([c], () => false);
    p.see(ev('created', 'b', 1_000));
    p.see(ev('created', 'a', 2_000));
    assert.equal(p.windowEnd(100), 2_100);
  });

  it('a call given up stays failed, even if a leg shows up afterwards', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.giveUpRecreation(() => 'never came');
    p.see(ev('created', 'a', 10));
    assert.deepEqual([c.outcome, c.cause], ['failed', 'never came']);
  });

  it('a call whose party hung up after the move says so', () => {
    const c = call('a', ['a']);
    const p = new MigrationProof([c], () => false);
    p.see(ev('created', 'a', 1));
    p.see(ev('ended', 'a', 2, { cause: 'NORMAL_CLEARING' }));
    assert.deepEqual([c.outcome, c.cause], ['moved', 'ended by a party (NORMAL_CLEARING) after the move']);
  });
});
