import type { ServerView } from './decide.ts';
import type { PgServerStatus } from './protocol.ts';
import { formatLsn } from './lsn.ts';

/**
 * Where a cluster's PgServerActors post what they see and its decision actor reads it: one per cluster, shared by the
 * actors of `/pg/<key>` (all in the node's process). A server actor posts after every look; the decision actor is
 * woken by each post, so a primary's death is acted on as soon as it is seen, not at the next tick.
 */

export interface ServerObservation extends ServerView {
  ssh_endpoint: string;
  /** Wall-clock time of the look. */
  checkedAt: number | null;
  replayDelay: number | null;
  error: string | null;
  problems: string[];
}

export class PgBoard {
  private readonly views = new Map<string, ServerObservation>();
  private readonly listeners = new Set<(name: string) => void>();

  constructor(readonly names: readonly string[]) {}

  post(o: ServerObservation): void {
    this.views.set(o.name, o);
    for (const l of this.listeners) l(o.name);
  }

  get(name: string): ServerObservation | undefined {
    return this.views.get(name);
  }

  /** Every server, in the file's order; one never looked at shows as `unknown`. */
  all(): ServerObservation[] {
    return this.names.map((n) => this.views.get(n) ?? unknownView(n));
  }

  onPost(listener: (name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The servers as reported, lag measured against `primary`'s last position. */
  statuses(primary: string | null): PgServerStatus[] {
    const p = primary === null ? undefined : this.views.get(primary);
    const head = p?.current ?? null;
    return this.all().map((o) => statusOf(o, head));
  }
}

export function statusOf(o: ServerObservation, primaryLsn: number | null): PgServerStatus {
  const role =
    o.db === 'unknown' ? 'unknown' : o.db !== 'up' ? 'down' : o.recovery === true ? 'standby' : 'primary';
  const lagBytes =
    role === 'standby' && primaryLsn !== null && o.replayed !== null
      ? Math.max(0, primaryLsn - o.replayed)
      : null;
  return {
    name: o.name,
    ssh: o.ssh_endpoint,
    role,
    reachable: { db: o.db === 'up', ssh: o.ssh === null ? null : o.ssh === 'up' },
    timeline: o.timeline,
    lsn: formatLsn(role === 'primary' ? o.current : o.replayed),
    received_lsn: formatLsn(o.received),
    replayed_lsn: formatLsn(o.replayed),
    lag_bytes: lagBytes,
    // Seconds since the last replayed commit grow on an idle primary too: a standby that replayed all is 0 behind.
    lag_seconds: role !== 'standby' ? null : lagBytes === 0 ? 0 : (o.replayDelay ?? null),
    checked_at: o.checkedAt,
    error: o.error,
    problems: o.problems,
  };
}

export function unknownView(name: string): ServerObservation {
  return {
    name,
    ssh_endpoint: '',
    db: 'unknown',
    recovery: null,
    timeline: null,
    current: null,
    received: null,
    replayed: null,
    ssh: null,
    postmaster: null,
    unreachableSince: null,
    checkedAt: null,
    replayDelay: null,
    error: null,
    problems: [],
  };
}
