import type {
  PgChangeKind,
  PgFailoverRecord,
  PgServerRole,
  PgServerStatus,
} from '../../actors/pg/protocol.ts';

/**
 * Reports of the replication controller that a test node without PostgreSQL cannot produce (a standby with lag, a
 * failover history), for the metrics, the shell and the web view.
 */

/** A server as its actor reports it; `lagBytes` for a standby (lag in seconds: bytes / 100,000). */
export function pgServer(name: string, role: PgServerRole, lagBytes: number | null = null): PgServerStatus {
  return {
    name,
    ssh: name.replace(/:\d+$/, ':22'),
    role,
    reachable: { db: role !== 'down', ssh: true },
    timeline: 2,
    lsn: '0/3000148',
    received_lsn: null,
    replayed_lsn: null,
    lag_bytes: lagBytes,
    lag_seconds: lagBytes === null ? null : lagBytes / 100_000,
    checked_at: 0,
    error: null,
    problems: [],
  };
}

/** A change of primary, decided in 850 ms under epoch 4, the old primary rejoined by pg_rewind in 2.3 s. */
export function pgFailover(at: number, from: string, to: string, kind: PgChangeKind): PgFailoverRecord {
  return {
    at,
    kind,
    from,
    to,
    epoch: 4,
    ms: 850,
    lag_bytes: 0,
    rejoin: { method: 'rewind', ok: true, ms: 2_300 },
  };
}
