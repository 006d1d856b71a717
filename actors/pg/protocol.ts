import type { Deviation } from '../../src/monitor/deviation.ts';
/**
 * Messages and reports of the PostgreSQL replication controller (04-postgres.md). The tree under `/pg`:
 *
 * ```
 * /pg                        supervisor (one_for_one): one subtree per replicated cluster
 * └── /pg/<key>              supervisor (rest_for_one): the servers first, the decision actor last
 *     ├── /pg/<key>/<server> PgServerActor: watches one server (`<pg_host>:<pg_port>`)
 *     └── /pg/<key>/controller  the decision actor: decides and acts, under the group's fencing epoch
 * ```
 * The API, the shell and the web view read these shapes (the decision actor's `status`) and send `switchover`.
 */

/** What a server is, as its PgServerActor sees it now. */
export type PgServerRole = 'primary' | 'standby' | 'down' | 'unknown';

/** One server as last observed. LSNs are PostgreSQL's text form (`0/3000148`); absent when unknown. */
export interface PgServerStatus {
  /** `<pg_host>:<pg_port>`: the server's name in paths, commands and reports. */
  name: string;
  ssh: string;
  role: PgServerRole;
  /** The database answered the last probe; `ssh`: the SSH server answered (null: not asked yet). */
  reachable: { db: boolean; ssh: boolean | null };
  timeline: number | null;
  /** Primary: its current write position; standby: the last position replayed. */
  lsn: string | null;
  received_lsn: string | null;
  replayed_lsn: string | null;
  /** Standby: how far behind the primary's position it replays, in bytes and in seconds (null: not a standby). */
  lag_bytes: number | null;
  lag_seconds: number | null;
  /** Wall-clock time of the last probe. */
  checked_at: number | null;
  /** Why the database or SSH did not answer, in plain words (no secret). */
  error: string | null;
  /** What the pre-configuration check found missing, in plain words (empty: nothing). */
  problems: string[];
}

/** Why the primary changed. */
export type PgChangeKind =
  /** The primary's postgres was proven dead (port refused, SSH answered): promoted at once. */
  | 'postmaster-dead'
  /** Neither the database nor SSH answered for the confirmation window, the referee did: promoted then. */
  | 'host-lost'
  /** An operator asked for it (`pg switchover`). */
  | 'switchover'
  /** Found two primaries at start-up: the more advanced kept. */
  | 'startup-repair';

/** How a server was (re)joined as a standby. */
export type PgRejoinMethod = 'rewind' | 'basebackup' | 'none';

/** One change of primary, kept in the controller's saved state (the newest last). */
export interface PgFailoverRecord {
  /** Wall-clock time it was decided. */
  at: number;
  kind: PgChangeKind;
  from: string | null;
  to: string;
  /** The group's fencing epoch the decision was taken under. */
  epoch: number;
  /** From the decision to the new primary accepting writes. */
  ms: number;
  /** Replayed position of the promoted server behind the old primary's last observed one, in bytes. */
  lag_bytes: number | null;
  /** Set once the old primary has rejoined (or failed to). */
  rejoin: { method: PgRejoinMethod; ok: boolean; ms: number; detail?: string } | null;
}

/**
 * What the decision actor is doing: `watching` (all is well), `failing-over`, `rejoining`, `switching-over`,
 * `repairing` (start-up), `no-primary` (waiting: confirmation window, no eligible standby), `isolated` (the
 * referee is out of reach: nothing is promoted).
 */
export type PgControllerPhase =
  | 'starting'
  | 'watching'
  | 'failing-over'
  | 'rejoining'
  | 'switching-over'
  | 'repairing'
  | 'no-primary'
  | 'isolated';

export interface PgClusterStatus {
  key: string;
  phase: PgControllerPhase;
  /** Why the controller is not simply watching, in plain words (null when it is). */
  reason: string | null;
  /** The current primary's name, as published cluster-wide. */
  primary: string | null;
  epoch: number | null;
  referee: { address: string; reachable: boolean | null } | null;
  servers: PgServerStatus[];
  /** Changes of primary, the newest last (bounded). */
  history: PgFailoverRecord[];
}

export interface SwitchoverRequest {
  /** The standby to promote (a server name, `<pg_host>:<pg_port>`). */
  server: string;
  /** How long the target may take to catch up with the primary (default 30 s). */
  timeout_ms?: number;
}

export interface SwitchoverReply {
  from: string;
  to: string;
  ms: number;
  rejoin: PgRejoinMethod;
}

/** The decision actor's messages. */
export type PgControllerProtocol = {
  status: { request: null; reply: PgClusterStatus; scope: 'read' };
  switchover: { request: SwitchoverRequest; reply: SwitchoverReply; scope: 'admin' };
  /** Its deviations for the system state (src/monitor/): no primary, isolated, a failover under way, a server down. */
  deviations: { request: null; reply: Deviation[]; scope: 'read' };
};

/** A PgServerActor's messages (read by its decision actor, and by anyone with a token). */
export type PgServerProtocol = {
  status: { request: null; reply: PgServerStatus; scope: 'read' };
  /** Probe now rather than at the next tick (the decision actor asks when it needs a fresh view). */
  probe: { request: null; reply: PgServerStatus };
};

/** The event-stream topic of controller decisions, and the state key under which a cluster's primary is published. */
export const PG_EVENT_TOPIC = 'pg';
export const pgPrimaryKey = (key: string): string => `pg/${key}`;
