import type { PostmasterState } from './remote.ts';
import type { DbReach } from './probe.ts';

/**
 * The controller's judgement, as a pure function of what it sees (04-postgres.md): which server is the primary, and
 * what to do when it fails or when a server is out of place. It decides one step at a time; the decision actor
 * carries the step out and decides again on a fresh view. Kept apart from any I/O so that every rule is tested on
 * plain values (and by mutation testing: a failover rule is safety-critical).
 *
 * Two kinds of failure, two speeds:
 * - the primary's postgres is dead on a live host — its port refuses connections while its host answers over SSH
 *   and `pg_ctl status` says no server runs. That is proof, not silence: fail over at once;
 * - the primary is silent (database and SSH) — fail over only after `confirmMs`, and only when the referee is
 *   reachable from here: a controller that cannot reach its referee may be the one cut off, and promotes nothing.
 */

/** One server as the decision sees it. Positions are bytes (see lsn.ts); times are monotonic milliseconds. */
export interface ServerView {
  name: string;
  /** `unknown`: not looked at yet. */
  db: DbReach | 'unknown';
  /** `pg_is_in_recovery()` when the database answered. */
  recovery: boolean | null;
  timeline: number | null;
  current: number | null;
  received: number | null;
  replayed: number | null;
  /** Whether the host answered over SSH at the last ask (null: not asked). */
  ssh: 'up' | 'down' | null;
  /** What `pg_ctl status` said at the last ask over SSH. */
  postmaster: PostmasterState | null;
  /** Since when the database has not been `up` (null while it is). */
  unreachableSince: number | null;
}

/** What the controller remembers between decisions (and saves, so a restart or a takeover keeps it). */
export interface Memory {
  /** The primary the controller published. */
  primary: string | null;
  /** Its last observed write position and timeline. */
  primaryLsn: number | null;
  primaryTimeline: number | null;
}

export interface DecideInput {
  servers: readonly ServerView[];
  memory: Memory;
  now: number;
  /** When the controller started watching (the confirmation window runs from here at the earliest). */
  since: number;
  confirmMs: number;
  maxLagBytes: number;
  /** Whether the referee answered (null: no referee configured). */
  referee: boolean | null;
  /** Servers with an action that failed recently: left alone until their retry time. */
  cooling: ReadonlySet<string>;
}

export type PgAction =
  | { do: 'wait'; phase: 'starting' | 'watching' | 'no-primary' | 'isolated'; reason: string | null }
  /** The one primary found (at start-up, or promoted from outside) is taken as the cluster's primary. */
  | { do: 'adopt'; primary: string; reason: string }
  | {
      do: 'failover';
      from: string | null;
      to: string;
      cause: 'postmaster-dead' | 'host-lost';
      lagBytes: number | null;
    }
  /** A second primary beside the published one: stopped at once. */
  | { do: 'fence'; server: string; reason: string }
  /** A stopped server with data: rewound (or rebuilt) onto the primary and started as its standby. */
  | { do: 'rejoin'; server: string }
  /** A server without data: built from a base backup of the primary. */
  | { do: 'build'; server: string }
  /** Two primaries at start-up: the more advanced kept, the other rebuilt as its standby. */
  | { do: 'repair'; keep: string; demote: string };

/** Reaches that mean the database is not serving (as opposed to refusing our credentials, or an odd error). */
const DOWN: ReadonlySet<ServerView['db']> = new Set(['refused', 'silent', 'starting']);

export function decide(input: DecideInput): PgAction {
  const { servers, memory } = input;
  const unseen = servers.filter((s) => s.db === 'unknown');
  if (unseen.length > 0)
    return { do: 'wait', phase: 'starting', reason: `not looked at yet: ${names(unseen)}` };
  const primaries = servers.filter(isPrimary);
  if (memory.primary === null) return decideUnknownPrimary(input, primaries);
  const p = servers.find((s) => s.name === memory.primary);
  if (p === undefined) return decideUnknownPrimary(input, primaries);
  if (isPrimary(p)) return decideHealthy(input, p, primaries);

  // The published primary does not serve as one. Another primary may have appeared meanwhile.
  const other = primaries[0];
  if (other !== undefined) {
    // Ahead of the history we published: promoted by someone else; behind or level: an old primary back.
    if (other.timeline !== null && memory.primaryTimeline !== null && other.timeline > memory.primaryTimeline)
      return {
        do: 'adopt',
        primary: other.name,
        reason: `${other.name} was promoted outside the controller`,
      };
    return {
      do: 'fence',
      server: other.name,
      reason: `a second primary while ${p.name} is the published one`,
    };
  }
  if (p.db === 'up')
    return { do: 'wait', phase: 'no-primary', reason: `the published primary ${p.name} is in recovery` };
  if (!DOWN.has(p.db))
    return {
      do: 'wait',
      phase: 'watching',
      reason: `the primary ${p.name} does not let the controller in (${p.db}); not a failure of the server`,
    };
  if (provenDead(p)) return failover(input, p, 'postmaster-dead');
  const silentFor = input.now - Math.max(p.unreachableSince ?? input.now, input.since);
  if (p.ssh === 'up' && p.postmaster === 'running' && silentFor < input.confirmMs)
    return { do: 'wait', phase: 'no-primary', reason: `the primary ${p.name} is starting or restarting` };
  if (silentFor < input.confirmMs)
    return {
      do: 'wait',
      phase: 'no-primary',
      reason: `the primary ${p.name} has not answered for ${Math.round(silentFor)} ms; confirming (${input.confirmMs} ms)`,
    };
  const isolated = refereeBlocks(input);
  if (isolated) return isolated;
  return failover(input, p, 'host-lost');
}

/** The published primary serves: fence any second primary, bring stopped servers back as standbys. */
function decideHealthy(input: DecideInput, p: ServerView, primaries: ServerView[]): PgAction {
  const rogue = primaries.find((s) => s.name !== p.name);
  if (rogue) return { do: 'fence', server: rogue.name, reason: `a second primary beside ${p.name}` };
  for (const s of input.servers) {
    if (s.name === p.name || input.cooling.has(s.name)) continue;
    if (s.db !== 'up' && s.ssh === 'up' && s.postmaster === 'stopped')
      return { do: 'rejoin', server: s.name };
    if (s.db !== 'up' && s.ssh === 'up' && s.postmaster === 'no-data') return { do: 'build', server: s.name };
  }
  return { do: 'wait', phase: 'watching', reason: null };
}

/** No primary published yet (first start) or the published one is no longer in the file. */
function decideUnknownPrimary(input: DecideInput, primaries: ServerView[]): PgAction {
  if (primaries.length === 1) {
    const only = primaries[0] as ServerView;
    return { do: 'adopt', primary: only.name, reason: `the only primary found` };
  }
  if (primaries.length > 1) {
    const [keep, demote] = [...primaries].sort(moreAdvanced);
    return { do: 'repair', keep: (keep as ServerView).name, demote: (demote as ServerView).name };
  }
  // No primary at all: it is one of the servers that do not serve. Every one of them must be proven dead, or
  // silent for the confirmation window with the referee in reach.
  const down = input.servers.filter((s) => !(s.db === 'up' && s.recovery === true));
  if (down.length === 0 || !input.servers.some((s) => s.db === 'up'))
    return { do: 'wait', phase: 'no-primary', reason: 'no server answers as a primary or a standby' };
  if (down.every(provenDead)) return failover(input, null, 'postmaster-dead');
  const silentFor = Math.min(
    ...down.map((s) => input.now - Math.max(s.unreachableSince ?? input.now, input.since)),
  );
  if (silentFor < input.confirmMs || !down.every((s) => DOWN.has(s.db)))
    return {
      do: 'wait',
      phase: 'no-primary',
      reason: `no primary; ${names(down)} not answering, confirming (${input.confirmMs} ms)`,
    };
  return refereeBlocks(input) ?? failover(input, null, 'host-lost');
}

function failover(
  input: DecideInput,
  from: ServerView | null,
  cause: 'postmaster-dead' | 'host-lost',
): PgAction {
  const standbys = input.servers.filter((s) => s.db === 'up' && s.recovery === true && s.replayed !== null);
  const lastKnown = from ? input.memory.primaryLsn : null;
  const lagOf = (s: ServerView): number | null =>
    lastKnown === null ? null : Math.max(0, lastKnown - (s.replayed as number));
  const ranked = [...standbys].sort(
    (a, b) => (b.replayed as number) - (a.replayed as number) || (b.received ?? 0) - (a.received ?? 0),
  );
  const best = ranked[0];
  if (best === undefined)
    return { do: 'wait', phase: 'no-primary', reason: 'no standby answers: nothing to promote' };
  const lag = lagOf(best);
  if (lag !== null && lag > input.maxLagBytes)
    return {
      do: 'wait',
      phase: 'no-primary',
      reason: `no standby within max_lag_on_failover (${input.maxLagBytes} bytes): the most advanced, ${best.name}, is ${lag} bytes behind`,
    };
  return { do: 'failover', from: from?.name ?? null, to: best.name, cause, lagBytes: lag };
}

function refereeBlocks(input: DecideInput): PgAction | undefined {
  if (input.referee === true) return undefined;
  return {
    do: 'wait',
    phase: 'isolated',
    reason:
      input.referee === null
        ? 'no referee is configured: a silent primary is not failed over (this controller cannot tell a lost host from its own isolation)'
        : 'the referee is out of reach from this controller: it may be the one cut off, so nothing is promoted',
  };
}

function isPrimary(s: ServerView): boolean {
  return s.db === 'up' && s.recovery === false;
}

/** Its port refuses while its host answers and says no postmaster runs. */
function provenDead(s: ServerView): boolean {
  return s.db === 'refused' && s.ssh === 'up' && (s.postmaster === 'stopped' || s.postmaster === 'no-data');
}

/** Higher timeline first, then the further write position. */
function moreAdvanced(a: ServerView, b: ServerView): number {
  return (b.timeline ?? 0) - (a.timeline ?? 0) || (b.current ?? 0) - (a.current ?? 0);
}

function names(s: readonly ServerView[]): string {
  return s.map((x) => x.name).join(', ');
}
