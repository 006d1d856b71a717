import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlanLeg, PlanTarget } from '../../actors/freeswitch/plan.ts';
import { groupCalls, planMigration } from '../../actors/freeswitch/plan.ts';

const leg = (uuid: string, o: Partial<PlanLeg> = {}): PlanLeg => ({
  uuid,
  profile: 'internal',
  partner: null,
  conference: null,
  ...o,
});
const host = (name: string, o: Partial<PlanTarget> = {}): PlanTarget => ({
  name,
  profiles: ['internal', 'external'],
  sessions: 0,
  maxSessions: 1000,
  live: true,
  paused: false,
  ...o,
});
const pair = (a: string, b: string, profileB = 'internal'): PlanLeg[] => [
  leg(a, { partner: b }),
  leg(b, { partner: a, profile: profileB }),
];

describe('migration planner', () => {
  it('keeps both legs of a bridge together, also when only one side names the other', () => {
    const calls = groupCalls([leg('a1', { partner: 'a2' }), leg('a2'), leg('b1')]);
    assert.deepEqual(
      calls.map((c) => c.legs),
      [['a1', 'a2'], ['b1']],
    );
  });

  it('keeps every member of one conference together, with the legs bridged to them', () => {
    const calls = groupCalls([
      leg('m1', { conference: 'room' }),
      leg('x', { partner: 'm2' }),
      leg('m2', { conference: 'room', partner: 'x' }),
      leg('m3', { conference: 'other' }),
    ]);
    assert.deepEqual(calls.map((c) => [...c.legs].sort()).sort(), [['m1', 'm2', 'x'], ['m3']]);
  });

  it('a partner that is not among the rows (on another host) does not join anything', () => {
    assert.equal(groupCalls([leg('a', { partner: 'elsewhere' })]).length, 1);
    // Two legs whose partners are both elsewhere stay two calls.
    assert.equal(groupCalls([leg('a', { partner: 'x1' }), leg('b', { partner: 'x2' })]).length, 2);
  });

  it('a call’s legs and profiles are listed sorted, its id the smallest uuid', () => {
    const [c] = groupCalls([
      leg('m', { partner: 'd', profile: 'internal' }),
      leg('d', { partner: 'm', profile: 'external' }),
    ]);
    assert.deepEqual([c?.id, c?.legs, c?.profiles], ['d', ['d', 'm'], ['external', 'internal']]);
  });

  it('load is relative to capacity: a big host with more calls can still be the lighter one', () => {
    const plan = planMigration(
      [leg('a')],
      [host('small', { sessions: 50, maxSessions: 100 }), host('big', { sessions: 100, maxSessions: 1000 })],
      { exclude: [] },
    );
    assert.equal(plan[0]?.target, 'big');
  });

  it('a tie goes to the first host in the topology’s order, whatever the order of the rows', () => {
    const rows = [leg('b'), leg('a')];
    const targets = [host('fs02'), host('fs03')];
    const one = planMigration(rows, targets, { exclude: [] });
    const other = planMigration([...rows].reverse(), targets, { exclude: [] });
    const byId = (p: typeof one) => Object.fromEntries(p.map((c) => [c.id, c.target]));
    assert.deepEqual(byId(one), byId(other));
    // Equal loads: the first call (by id) goes to the first host.
    assert.deepEqual(byId(one), { a: 'fs02', b: 'fs03' });
  });

  it('spreads calls by load relative to capacity', () => {
    const legs = Array.from({ length: 6 }, (_, i) => pair(`c${i}a`, `c${i}b`)).flat();
    const plan = planMigration(legs, [host('fs02', { sessions: 4 }), host('fs03')], { exclude: ['fs01'] });
    const count = (t: string): number => plan.filter((c) => c.target === t).length;
    // fs03 starts 4 legs lighter: it gets 2 calls more (5 of 6 would overshoot, 3/3 would ignore the load).
    assert.equal(count('fs03'), 4);
    assert.equal(count('fs02'), 2);
  });

  it('never chooses a paused host, a dead one, the source, or one lacking a profile of the call', () => {
    const plan = planMigration(
      pair('a', 'b', 'external'),
      [
        host('fs01'),
        host('fs02', { paused: true }),
        host('fs03', { live: false }),
        host('fs04', { profiles: ['internal'] }),
        host('fs05', { sessions: 900 }),
      ],
      { exclude: ['fs01'] },
    );
    assert.equal(plan[0]?.target, 'fs05');
  });

  it('says why when no host fits', () => {
    const [noProfile] = planMigration(
      [leg('a', { partner: 'b', profile: 'external' }), leg('b', { partner: 'a', profile: 'wss' })],
      [host('fs02', { profiles: ['internal'] })],
      { exclude: ['fs01'] },
    );
    assert.equal(noProfile?.target, null);
    assert.equal(noProfile?.reason, 'no live, unpaused host runs profile "external", "wss"');
    const [allPaused] = planMigration(
      [leg('a')],
      [host('fs02', { paused: true }), host('fs03', { live: false })],
      {
        exclude: ['fs01'],
      },
    );
    assert.match(allPaused?.reason ?? '', /fs02 paused, fs03 down/);
    const [nobody] = planMigration([leg('a')], [host('fs02')], { exclude: ['fs01'], allowed: ['fs01'] });
    assert.match(nobody?.reason ?? '', /the allowed targets exclude every other host/);
    // Each profile runs somewhere, but no one host runs both.
    const [split] = planMigration(
      pair('a', 'b', 'external'),
      [host('fs02', { profiles: ['internal'] }), host('fs03', { profiles: ['external'] })],
      { exclude: [] },
    );
    assert.equal(split?.target, null);
    assert.equal(
      split?.reason,
      'no live, unpaused host runs every profile the call uses (external, internal)',
    );
  });

  it('honours the operator’s target list', () => {
    const plan = planMigration([leg('a'), leg('b')], [host('fs02'), host('fs03', { sessions: 500 })], {
      exclude: ['fs01'],
      allowed: ['fs03'],
    });
    assert.deepEqual(
      plan.map((c) => c.target),
      ['fs03', 'fs03'],
    );
  });

  it('places a big conference first, so the rest evens out around it', () => {
    const conf = ['k1', 'k2', 'k3', 'k4'].map((u) => leg(u, { conference: 'big' }));
    const plan = planMigration([leg('s1'), leg('s2'), ...conf], [host('fs02'), host('fs03')], {
      exclude: [],
    });
    const onConfHost = plan.find((c) => c.conference === 'big')!.target;
    assert.deepEqual(
      plan.filter((c) => c.conference === null).map((c) => c.target),
      [onConfHost === 'fs02' ? 'fs03' : 'fs02', onConfHost === 'fs02' ? 'fs03' : 'fs02'],
    );
  });

  it('gives the same call ids when the same rows are planned again (resume after a takeover)', () => {
    const legs = [...pair('z', 'y'), leg('q')];
    const ids = (l: PlanLeg[]): string[] =>
      groupCalls(l)
        .map((c) => c.id)
        .sort();
    assert.deepEqual(ids(legs), ids([...legs].reverse()));
  });
});
