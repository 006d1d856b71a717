import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecideInput, ServerView } from '../../actors/pg/decide.ts';
import { decide } from '../../actors/pg/decide.ts';

/** The failover rules of 04-postgres.md, one sentence each, on plain values. */

const MiB = 1024 * 1024;

function server(name: string, o: Partial<ServerView> = {}): ServerView {
  return {
    name,
    db: 'up',
    recovery: true,
    timeline: 1,
    current: null,
    received: 1000,
    replayed: 1000,
    ssh: 'up',
    postmaster: 'running',
    unreachableSince: null,
    ...o,
  };
}
const primary = (name: string, o: Partial<ServerView> = {}) =>
  server(name, { recovery: false, current: 1000, received: null, replayed: null, ...o });
const dead = (name: string, o: Partial<ServerView> = {}) =>
  server(name, { db: 'refused', recovery: null, postmaster: 'stopped', unreachableSince: 0, ...o });
const silent = (name: string, since = 0) =>
  server(name, { db: 'silent', recovery: null, ssh: 'down', postmaster: null, unreachableSince: since });

function input(servers: ServerView[], o: Partial<DecideInput> = {}): DecideInput {
  return {
    servers,
    memory: { primary: 'a', primaryLsn: 1000, primaryTimeline: 1 },
    now: 10_000,
    since: 0,
    confirmMs: 2_000,
    maxLagBytes: MiB,
    referee: true,
    cooling: new Set(),
    ...o,
  };
}

describe('decide', () => {
  it('waits until every server has been looked at', () => {
    const a = decide(input([primary('a'), server('b', { db: 'unknown' })]));
    assert.deepEqual(a, { do: 'wait', phase: 'starting', reason: 'not looked at yet: b' });
  });

  it('adopts the only primary when none is published', () => {
    const a = decide(
      input([server('b'), primary('a')], {
        memory: { primary: null, primaryLsn: null, primaryTimeline: null },
      }),
    );
    assert.equal(a.do, 'adopt');
    assert.equal(a.do === 'adopt' && a.primary, 'a');
  });

  it('keeps the primary with the higher timeline when two run at start-up, then the further position', () => {
    const fresh = { memory: { primary: null, primaryLsn: null, primaryTimeline: null } };
    assert.deepEqual(
      decide(
        input(
          [primary('a', { timeline: 1, current: 9000 }), primary('b', { timeline: 2, current: 10 })],
          fresh,
        ),
      ),
      {
        do: 'repair',
        keep: 'b',
        demote: 'a',
      },
    );
    assert.deepEqual(decide(input([primary('a', { current: 10 }), primary('b', { current: 20 })], fresh)), {
      do: 'repair',
      keep: 'b',
      demote: 'a',
    });
  });

  it('watches while the published primary serves and its standby streams', () => {
    assert.deepEqual(decide(input([primary('a'), server('b')])), {
      do: 'wait',
      phase: 'watching',
      reason: null,
    });
  });

  it('fails over at once when the primary’s port refuses while its host says no postmaster runs', () => {
    const a = decide(input([dead('a', { unreachableSince: 9_990 }), server('b')]));
    assert.deepEqual(a, { do: 'failover', from: 'a', to: 'b', cause: 'postmaster-dead', lagBytes: 0 });
  });

  it('does not take a refused port alone as proof: with the postmaster running it waits the confirmation window', () => {
    const a = decide(input([dead('a', { postmaster: 'running', unreachableSince: 9_000 }), server('b')]));
    assert.equal(a.do, 'wait');
    assert.equal(a.do === 'wait' && a.phase, 'no-primary');
  });

  it('does not take a refused port as proof when SSH does not answer', () => {
    const a = decide(
      input([dead('a', { ssh: 'down', postmaster: null, unreachableSince: 9_000 }), server('b')]),
    );
    assert.equal(a.do, 'wait');
  });

  it('fails over a silent host only after the confirmation window', () => {
    assert.equal(decide(input([silent('a', 8_001), server('b')])).do, 'wait');
    const a = decide(input([silent('a', 8_000), server('b')]));
    assert.deepEqual(a, { do: 'failover', from: 'a', to: 'b', cause: 'host-lost', lagBytes: 0 });
  });

  it('counts the confirmation window from its own start, not from before it watched', () => {
    assert.equal(decide(input([silent('a', 0), server('b')], { since: 9_000 })).do, 'wait');
  });

  it('promotes nothing when the referee is out of reach, and says so', () => {
    const a = decide(input([silent('a'), server('b')], { referee: false }));
    assert.equal(a.do === 'wait' && a.phase, 'isolated');
    assert.match(a.do === 'wait' ? (a.reason ?? '') : '', /referee is out of reach/);
  });

  it('promotes nothing on silence when no referee is configured, but still on proof', () => {
    assert.equal(decide(input([silent('a'), server('b')], { referee: null })).do, 'wait');
    assert.equal(decide(input([dead('a'), server('b')], { referee: null })).do, 'failover');
  });

  it('does not fail over a primary that refuses the controller’s credentials', () => {
    const a = decide(input([server('a', { db: 'auth', recovery: null, unreachableSince: 0 }), server('b')]));
    assert.equal(a.do, 'wait');
  });

  it('chooses the most advanced standby', () => {
    const a = decide(input([dead('a'), server('b', { replayed: 900 }), server('c', { replayed: 990 })]));
    assert.equal(a.do === 'failover' && a.to, 'c');
    assert.equal(a.do === 'failover' && a.lagBytes, 10);
  });

  it('promotes no standby further behind the primary’s last position than max_lag_on_failover', () => {
    const far = decide(input([dead('a'), server('b', { replayed: 1000 - 101 })], { maxLagBytes: 100 }));
    assert.equal(far.do === 'wait' && far.phase, 'no-primary');
    assert.match(far.do === 'wait' ? (far.reason ?? '') : '', /101 bytes behind/);
    const near = decide(input([dead('a'), server('b', { replayed: 1000 - 100 })], { maxLagBytes: 100 }));
    assert.equal(near.do, 'failover');
  });

  it('has nothing to promote when no standby answers', () => {
    const a = decide(input([dead('a'), silent('b')]));
    assert.equal(a.do === 'wait' && a.phase, 'no-primary');
  });

  it('fences a second primary beside the published one', () => {
    assert.deepEqual(decide(input([primary('a'), primary('b')])).do, 'fence');
  });

  it('fences an old primary back while the published one is down, but adopts one ahead of its timeline', () => {
    const back = decide(input([dead('a', { ssh: 'down', postmaster: null }), primary('b', { timeline: 1 })]));
    assert.deepEqual(back.do === 'fence' && back.server, 'b');
    const ahead = decide(
      input([dead('a', { ssh: 'down', postmaster: null }), primary('b', { timeline: 2 })]),
    );
    assert.equal(ahead.do === 'adopt' && ahead.primary, 'b');
  });

  it('rejoins a stopped server and builds one without data, unless it is cooling down after a failure', () => {
    assert.deepEqual(decide(input([primary('a'), dead('b')])), { do: 'rejoin', server: 'b' });
    assert.deepEqual(decide(input([primary('a'), dead('b', { postmaster: 'no-data' })])), {
      do: 'build',
      server: 'b',
    });
    assert.equal(decide(input([primary('a'), dead('b')], { cooling: new Set(['b']) })).do, 'wait');
  });

  it('leaves a down server whose host does not answer alone', () => {
    assert.equal(decide(input([primary('a'), silent('b')])).do, 'wait');
  });

  it('with no primary published nor running, promotes only once every other server is proven dead or confirmed silent', () => {
    const fresh = { memory: { primary: null, primaryLsn: null, primaryTimeline: null } };
    assert.equal(decide(input([dead('a'), server('b')], fresh)).do, 'failover');
    assert.equal(decide(input([silent('a', 9_000), server('b')], fresh)).do, 'wait');
    const confirmed = decide(input([silent('a', 0), server('b')], fresh));
    assert.equal(confirmed.do === 'failover' && confirmed.cause, 'host-lost');
    assert.equal(decide(input([silent('a', 0), server('b')], { ...fresh, referee: false })).do, 'wait');
  });
});
