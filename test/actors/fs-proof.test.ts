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
});
