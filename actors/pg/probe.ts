import type pg from 'pg';
import type { PgLimits, PgTarget } from '../../src/pg/db.ts';
import { connectPg, queryWithDeadline } from '../../src/pg/db.ts';
import { PgAuthFailed, PgTimeout, PgUnavailable, PgUnreachable } from '../../src/pg/errors.ts';
import { parseLsn } from './lsn.ts';

/**
 * One look at one server's database: its role, timeline and WAL positions in a single round trip, on a connection
 * kept between looks. The connection's end is itself news: when a postmaster dies, its idle backends exit and the
 * connection drops at once, so the watcher is told ({@link DbProbe.onDrop}) rather than waiting for its next tick.
 */

/** How the database answered: `up`, or why not — `refused` (nothing listens: proof when SSH answers), `silent`
 * (no answer within the deadline), `auth` (credentials refused), `starting` (starting or shutting down), `error`. */
export type DbReach = 'up' | 'refused' | 'silent' | 'auth' | 'starting' | 'error';

export interface DbLook {
  reach: DbReach;
  recovery: boolean | null;
  timeline: number | null;
  /** Primary: current write position. */
  current: number | null;
  received: number | null;
  replayed: number | null;
  /** Seconds since the last replayed transaction's commit on the primary (standby only). */
  replayDelay: number | null;
  error: string | null;
}

const LOOK_SQL = `SELECT pg_is_in_recovery() AS recovery,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current,
  CASE WHEN pg_is_in_recovery() THEN NULL
    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tli,
  pg_last_wal_receive_lsn()::text AS received,
  pg_last_wal_replay_lsn()::text AS replayed,
  (SELECT received_tli FROM pg_stat_wal_receiver) AS receiver_tli,
  (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_tli,
  EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))::float8 AS replay_delay`;

interface LookRow {
  recovery: boolean;
  current: string | null;
  tli: number | null;
  received: string | null;
  replayed: string | null;
  receiver_tli: number | null;
  checkpoint_tli: number | null;
  replay_delay: number | null;
}

export class DbProbe {
  private client: pg.Client | undefined;
  private dropListener: (() => void) | undefined;

  constructor(
    private readonly target: PgTarget,
    private readonly limits: PgLimits,
  ) {}

  /** Called once each time a kept connection drops by itself. */
  onDrop(listener: () => void): void {
    this.dropListener = listener;
  }

  async look(): Promise<DbLook> {
    try {
      const client = await this.connection();
      const r = await queryWithDeadline<LookRow>(
        client,
        this.target,
        LOOK_SQL,
        [],
        this.limits.queryTimeoutMs,
      );
      const row = r.rows[0] as LookRow;
      return {
        reach: 'up',
        recovery: row.recovery,
        timeline: row.recovery ? (row.receiver_tli ?? row.checkpoint_tli) : (row.tli ?? row.checkpoint_tli),
        current: parseLsn(row.current),
        received: parseLsn(row.received),
        replayed: parseLsn(row.replayed),
        replayDelay: row.replay_delay,
        error: null,
      };
    } catch (err) {
      this.close();
      return { ...EMPTY, reach: reachOf(err), error: (err as Error).message };
    }
  }

  /** Runs a statement on the kept connection (the controller's pre-configuration queries). */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    const client = await this.connection();
    return (await queryWithDeadline<R>(client, this.target, sql, params, this.limits.queryTimeoutMs)).rows;
  }

  close(): void {
    const c = this.client;
    this.client = undefined;
    if (c) void c.end().catch(() => undefined);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = await connectPg(this.target, this.limits);
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.dropListener?.();
    });
    this.client = client;
    return client;
  }
}

const EMPTY: Omit<DbLook, 'reach' | 'error'> = {
  recovery: null,
  timeline: null,
  current: null,
  received: null,
  replayed: null,
  replayDelay: null,
};

function reachOf(err: unknown): DbReach {
  if (err instanceof PgUnreachable) return err.details?.reason === 'ECONNREFUSED' ? 'refused' : 'silent';
  if (err instanceof PgTimeout) return 'silent';
  if (err instanceof PgAuthFailed) return 'auth';
  if (err instanceof PgUnavailable) return 'starting';
  return 'error';
}
