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

  it('names the previous active for a takeover: the highest epoch below it, with its last state, even once forgotten', () => {
    const { m } = world();
    assert.equal(m.previousActive(5), undefined, 'nobody advertised an epoch: the first active');
    m.receive('a', { t: 'hb', role: 'active', epoch: 3, state: 'active' });
    m.receive('c', { t: 'hb-ack', role: 'active', epoch: 4, state: 'active' });
    m.receive('c', { t: 'hb', role: 'active', epoch: 4, state: 'draining' });
    m.receive('a', { t: 'hb', role: 'passive', epoch: null, state: 'passive' });
    m.forget('c');
    assert.deepEqual(m.previousActive(5), { name: 'c', epoch: 4, state: 'draining' });
    assert.deepEqual(m.previousActive(4), { name: 'a', epoch: 3, state: 'active' }, 'below the epoch only');
    m.receive('b', { t: 'hb', role: 'active', epoch: 9, state: 'active' });
    assert.deepEqual(m.previousActive(10)?.name, 'c', 'never this node itself');
  });

  it('announces its state at once, outside the beat', () => {
    const sent: [string, Record<string, unknown>][] = [];
    const members = [member('a', 10), member('b', 20)];
    const m = new Membership({
      self: members[1] as MwareRole,
      members,
      clock: new ManualClock(),
      report: () => ({ role: 'active', epoch: 2, state: 'draining' }),
      send: async (peer, msg) => {
        sent.push([peer, msg]);
        return true;
      },
    });
    m.announce();
    assert.deepEqual(
      sent.map(([p, x]) => [p, x.t, x.state, x.epoch]),
      [['a', 'hb', 'draining', 2]],
    );
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
