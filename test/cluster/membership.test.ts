import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MwareRole } from '../../topology/schema.ts';
import { JOIN_MS, LIVE_MS, Membership } from '../../src/cluster/membership.ts';
import { ManualClock } from '../../src/supervision/clock.ts';

const member = (name: string, order: number) =>
  ({ name, roletype: 'mware', server: 's', iface: 'eth0', group: 1, order }) as unknown as MwareRole;

function world() {
  const clock = new ManualClock();
  const members = [member('a', 10), member('b', 20), member('c', 30)];
  const m = new Membership({
    self: members[1] as MwareRole,
    members,
    clock,
    report: () => ({ role: 'passive', epoch: null, state: 'passive' }),
    send: async () => true,
  });
  const hear = (from: string) => m.receive(from, { t: 'hb', role: 'passive', epoch: null, state: 'passive' });
  return { clock, m, hear };
}

const sorted = (s: ReadonlySet<string>) => [...s].sort();

describe('group membership', () => {
  it('counts members not heard from yet during the join window, so a cold group elects its lowest order', async () => {
    const { clock, m, hear } = world();
    m.start();
    assert.deepEqual(sorted(m.candidates()), ['a', 'b', 'c'], 'at start, everyone may still be coming up');
    assert.deepEqual(sorted(m.liveMembers()), ['b'], 'but only this node is live');
    hear('c');
    await clock.advance(JOIN_MS);
    assert.deepEqual(sorted(m.candidates()), ['b', 'c'], 'after the window, only those heard from');
    m.stop();
  });

  it('does not wait for a member heard from and then refused by its host; one never heard from may be starting', () => {
    const { m, hear } = world();
    m.start();
    m.forget('c');
    assert.deepEqual(sorted(m.candidates()), ['a', 'b', 'c'], 'refused before it was ever heard: not up yet');
    hear('a');
    m.forget('a');
    assert.deepEqual(sorted(m.candidates()), ['b', 'c'], 'heard, then refused: its process is gone');
    m.stop();
  });

  it('awaits a lower member only while the join window lasts and it has not been heard from', async () => {
    const { clock, m, hear } = world();
    m.start();
    assert.deepEqual([m.awaited('a'), m.awaited('c'), m.awaited('b')], [true, true, false], 'b is this node');
    hear('a');
    assert.equal(m.awaited('a'), false, 'heard from: it takes its own turn');
    await clock.advance(JOIN_MS);
    assert.equal(m.awaited('c'), false, 'the window is over: not waited for any longer');
    m.stop();
  });

  it('drops a member not heard from within the live window', async () => {
    const { clock, m, hear } = world();
    m.start();
    await clock.advance(JOIN_MS);
    hear('a');
    assert.deepEqual(sorted(m.candidates()), ['a', 'b']);
    await clock.advance(LIVE_MS + 1);
    m.stop();
    assert.deepEqual(sorted(m.candidates()), ['b']);
  });
});
