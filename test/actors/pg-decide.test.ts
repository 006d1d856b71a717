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

  it('treats a published primary no longer in the file as no primary at all', () => {
    const a = decide(
      input([primary('a'), server('b')], { memory: { primary: 'gone', primaryLsn: 5, primaryTimeline: 1 } }),
    );
    assert.deepEqual(a, { do: 'adopt', primary: 'a', reason: 'the only primary found' });
  });

  it('fences a second primary whose timeline, or the published one’s, is unknown', () => {
    const down = dead('a', { ssh: 'down', postmaster: null });
    assert.equal(decide(input([down, primary('b', { timeline: null })])).do, 'fence');
    const unknownOwn = { memory: { primary: 'a', primaryLsn: 1000, primaryTimeline: null } };
    assert.equal(decide(input([down, primary('b', { timeline: 5 })], unknownOwn)).do, 'fence');
    assert.equal(decide(input([down, primary('b', { timeline: 1 })])).do, 'fence');
  });

  it('waits, saying so, when the published primary answers in recovery and no other primary runs', () => {
    const a = decide(input([server('a'), server('b')]));
    assert.deepEqual(a, {
      do: 'wait',
      phase: 'no-primary',
      reason: 'the published primary a is in recovery',
    });
  });

  it('watches, saying why, a primary that refuses the controller’s credentials', () => {
    const a = decide(input([server('a', { db: 'auth', recovery: null, unreachableSince: 0 }), server('b')]));
    assert.equal(a.do === 'wait' && a.phase, 'watching');
    assert.match(
      a.do === 'wait' ? (a.reason ?? '') : '',
      /^the primary a does not let the controller in \(auth\)/,
    );
  });

  it('says a primary whose postmaster runs is restarting, and a silent one is being confirmed', () => {
    const restarting = decide(
      input([dead('a', { postmaster: 'running', unreachableSince: 9_000 }), server('b')]),
    );
    assert.deepEqual(restarting, {
      do: 'wait',
      phase: 'no-primary',
      reason: 'the primary a is starting or restarting',
    });
    const onlySsh = decide(input([dead('a', { postmaster: null, unreachableSince: 9_000 }), server('b')]));
    assert.match(
      onlySsh.do === 'wait' ? (onlySsh.reason ?? '') : '',
      /has not answered for 1000 ms; confirming \(2000 ms\)/,
    );
    const downSsh = decide(
      input([dead('a', { ssh: 'down', postmaster: 'running', unreachableSince: 9_000 }), server('b')]),
    );
    assert.match(downSsh.do === 'wait' ? (downSsh.reason ?? '') : '', /has not answered/);
    // Past the window a running postmaster that serves nothing is failed over like silence.
    assert.equal(
      decide(input([dead('a', { postmaster: 'running', unreachableSince: 8_000 }), server('b')])).do,
      'failover',
    );
  });

  it('takes only a refused port, an answering host and no postmaster together as proof', () => {
    const proof = { db: 'refused', ssh: 'up', postmaster: 'stopped', unreachableSince: 9_999 } as const;
    assert.equal(decide(input([dead('a', proof), server('b')])).do, 'failover');
    assert.equal(decide(input([dead('a', { ...proof, postmaster: 'no-data' }), server('b')])).do, 'failover');
    assert.equal(decide(input([dead('a', { ...proof, db: 'silent' }), server('b')])).do, 'wait');
    assert.equal(decide(input([dead('a', { ...proof, ssh: 'down' }), server('b')])).do, 'wait');
    assert.equal(decide(input([dead('a', { ...proof, postmaster: null }), server('b')])).do, 'wait');
  });

  it('leaves the primary itself, a running standby and a server whose host is silent out of rejoins and builds', () => {
    assert.equal(decide(input([primary('a', { postmaster: 'stopped' }), server('b')])).do, 'wait');
    assert.equal(decide(input([primary('a'), server('b', { postmaster: 'stopped' })])).do, 'wait');
    assert.equal(decide(input([primary('a'), server('b', { postmaster: 'no-data' })])).do, 'wait');
    assert.equal(decide(input([primary('a'), dead('b', { ssh: 'down' })])).do, 'wait');
    assert.equal(decide(input([primary('a'), dead('b', { ssh: 'down', postmaster: 'no-data' })])).do, 'wait');
    assert.equal(decide(input([primary('a'), dead('b', { postmaster: 'running' })])).do, 'wait');
    assert.equal(
      decide(input([primary('a'), dead('b', { postmaster: 'no-data' })], { cooling: new Set(['b']) })).do,
      'wait',
    );
  });

  it('with nothing published: waits while no server answers at all, or every one is a standby', () => {
    const fresh = { memory: { primary: null, primaryLsn: null, primaryTimeline: null } };
    assert.deepEqual(decide(input([dead('a'), dead('b')], fresh)), {
      do: 'wait',
      phase: 'no-primary',
      reason: 'no server answers as a primary or a standby',
    });
    assert.equal(decide(input([server('a'), server('b')], fresh)).do, 'wait');
  });

  it('with nothing published: waits for every down server, the most recent silence included, and never on a refusal of credentials', () => {
    const fresh = { memory: { primary: null, primaryLsn: null, primaryTimeline: null } };
    assert.equal(decide(input([dead('a'), silent('c', 9_000), server('b')], fresh)).do, 'wait');
    assert.equal(decide(input([silent('a', 0), silent('c', 9_000), server('b')], fresh)).do, 'wait');
    assert.equal(decide(input([silent('a', 0), silent('c', 0), server('b')], fresh)).do, 'failover');
    const auth = server('a', { db: 'auth', recovery: null, unreachableSince: 0 });
    assert.equal(decide(input([auth, server('b')], fresh)).do, 'wait');
    const never = silent('a');
    never.unreachableSince = null;
    assert.equal(decide(input([never, server('b')], { ...fresh, now: 1_000 })).do, 'wait');
  });

  it('with nothing published, promotes without a lag limit (there is no last position to measure from)', () => {
    const fresh = { memory: { primary: null, primaryLsn: 99_999, primaryTimeline: null }, maxLagBytes: 0 };
    const a = decide(input([dead('a'), server('b', { replayed: 10 })], fresh));
    assert.deepEqual(a, { do: 'failover', from: null, to: 'b', cause: 'postmaster-dead', lagBytes: null });
  });

  it('promotes only a standby that answers with a replayed position', () => {
    const stale = server('b', { db: 'silent', replayed: 5000 });
    assert.equal(decide(input([dead('a'), stale, server('c')])).do === 'failover' && 'c', 'c');
    const noReplay = server('b', { replayed: null });
    assert.equal(
      decide(input([dead('a'), noReplay, server('c', { replayed: 10 })], { maxLagBytes: MiB })).do ===
        'failover',
      true,
    );
    assert.equal(
      decide(input([dead('a'), server('b', { recovery: false, db: 'refused', replayed: 2000 }), server('c')]))
        .do,
      'failover',
    );
  });

  it('breaks a tie on the replayed position by the received one', () => {
    const a = decide(
      input([
        dead('a'),
        server('b', { received: 1100 }),
        server('c', { received: 1200 }),
        server('d', { received: null }),
      ]),
    );
    assert.equal(a.do === 'failover' && a.to, 'c');
    const b = decide(input([dead('a'), server('d', { received: null }), server('b', { received: 1 })]));
    assert.equal(b.do === 'failover' && b.to, 'b');
  });

  it('does not take a server that stopped answering as a primary', () => {
    const fresh = { memory: { primary: null, primaryLsn: null, primaryTimeline: null } };
    const stale = dead('a', { recovery: false });
    assert.notEqual(decide(input([stale, primary('b')], fresh)).do, 'repair');
  });

  it('at start-up ranks primaries of unknown timeline or position below known ones', () => {
    const fresh = { memory: { primary: null, primaryLsn: null, primaryTimeline: null } };
    const a = decide(
      input(
        [primary('a', { timeline: null, current: 50 }), primary('b', { timeline: 1, current: 10 })],
        fresh,
      ),
    );
    assert.deepEqual(a, { do: 'repair', keep: 'b', demote: 'a' });
    const c = decide(input([primary('a', { current: null }), primary('b', { current: 10 })], fresh));
    assert.deepEqual(c, { do: 'repair', keep: 'b', demote: 'a' });
  });

  it('names every server it still waits for, and why nothing is promoted', () => {
    const a = decide(input([primary('a', { db: 'unknown' }), server('b', { db: 'unknown' })]));
    assert.equal(a.do === 'wait' && a.reason, 'not looked at yet: a, b');
    const none = decide(input([dead('a'), silent('b')]));
    assert.equal(none.do === 'wait' && none.reason, 'no standby answers: nothing to promote');
    const noReferee = decide(input([silent('a'), server('b')], { referee: null }));
    assert.match(noReferee.do === 'wait' ? (noReferee.reason ?? '') : '', /^no referee is configured/);
    const fresh = { memory: { primary: null, primaryLsn: null, primaryTimeline: null } };
    const confirming = decide(input([silent('a', 9_000), silent('c', 9_000), server('b')], fresh));
    assert.equal(
      confirming.do === 'wait' && confirming.reason,
      'no primary; a, c not answering, confirming (2000 ms)',
    );
  });
});
