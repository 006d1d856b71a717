import type { CallEvent } from '../../src/freeswitch/call-events.ts';

/**
 * Messages and reports of the FreeSWITCH farm (05-freeswitch.md). The tree under `/freeswitch`:
 *
 * ```
 * /freeswitch                 supervisor (rest_for_one): the hosts first, then the migrator, the call manager
 * ├── /freeswitch/hosts       supervisor (one_for_one, backoff): one FreeswitchHostActor per host
 * │   └── /freeswitch/hosts/<name>
 * ├── /freeswitch/migrator    the migration actor: host-down detection, failover, drain, migrate
 * └── /freeswitch/calls       the call manager (REST `/rest/v1/uc/calls`, call-manager-protocol.ts)
 * ```
 * The API, the shell and the web view read these shapes.
 */

/** How a host actor sees its host: `connecting` (no ESL session yet), `up`, `not-ready` (ESL answers, the core
 * says it is not ready), `down` (the ESL session was lost or never came). */
export type FsHostState = 'connecting' | 'up' | 'not-ready' | 'down';

export interface FsChannel {
  uuid: string;
  direction: 'inbound' | 'outbound' | null;
  /** FreeSWITCH's Channel-State (CS_EXECUTE …). */
  state: string;
  answered: boolean;
  partner: string | null;
  conference: string | null;
  profile: string | null;
  domain: string | null;
  caller: string | null;
  callee: string | null;
  callId: string | null;
  recovered: boolean;
}

export interface FsHostStatus {
  name: string;
  switchname: string;
  state: FsHostState;
  /** Wall-clock time the state began. */
  since: number;
  /** The core UUID of the running FreeSWITCH (new at every start), null until connected. */
  core_uuid: string | null;
  sessions: number;
  max_sessions: number;
  idle_cpu: number | null;
  paused: boolean;
  channels: number;
  profiles: string[];
  /** Why it is not up, in plain words (no secret). */
  error: string | null;
  /** What the pre-flight check found (recovery fencing, profile), in plain words. */
  problems: string[];
}

export type FsHostProtocol = {
  status: { request: null; reply: FsHostStatus; scope: 'read' };
  channels: { request: null; reply: FsChannel[]; scope: 'read' };
  /** An ESL `api` command (the node's own code: the migrator, the call manager). */
  api: { request: { command: string; timeout_ms?: number }; reply: string };
  /** An ESL `bgapi` command, answered with its BACKGROUND_JOB's body. */
  bgapi: { request: { command: string; timeout_ms?: number }; reply: string };
};

export type MigrationKind = 'failover' | 'drain' | 'migrate';

export type MigrationPhase =
  | 'planning'
  | 'pausing'
  | 'handing-over'
  | 'stopping-source'
  | 'recovering'
  | 'confirming'
  | 'cleaning'
  | 'done'
  | 'failed';

/**
 * Where one call stands: `planned` → `handed` (its rows assigned to the target) → `recreated` (every leg re-created
 * there) → `moved` (re-bridged and through the re-INVITE window without a fatal hangup). `lost`: a leg hung up with
 * a recovery cause; `failed`: not recovered (no target, refused, missing) — `cause` says why, and the call's rows'
 * metadata are kept in the migration's failed-calls file.
 */
export type CallOutcome = 'planned' | 'handed' | 'recreated' | 'moved' | 'lost' | 'failed';

export interface MigrationCall {
  id: string;
  legs: string[];
  target: string | null;
  outcome: CallOutcome;
  cause: string | null;
  domain: string | null;
  caller: string | null;
  callee: string | null;
  conference: string | null;
  /** Legs seen re-created on the target. */
  recreated: number;
  bridged: boolean;
}

export interface TargetRecovery {
  target: string;
  /** Its share was rewritten and assigned to it (visible to its `fsctl recover` only). */
  handed: boolean;
  /** `fsctl recover` was sent (a takeover sends it again: FreeSWITCH refuses a uuid it already has). */
  sent: boolean;
  /** FreeSWITCH's reply, e.g. `+OK 10 session(s) recovered in total` — not proof of anything. */
  reply: string | null;
  count: number | null;
  /** Time FreeSWITCH took for its `fsctl recover`. */
  ms: number | null;
}

export interface MigrationRecord {
  id: string;
  kind: MigrationKind;
  source: string;
  /** The source's core UUID when its rows were read (its rows carry it as runtime_uuid). */
  source_core_uuid: string | null;
  /** Targets the operator allowed (empty: any). */
  allowed: string[];
  epoch: number;
  started_at: number;
  finished_at: number | null;
  phase: MigrationPhase;
  /** Why it failed or what it waits for, in plain words. */
  reason: string | null;
  calls: MigrationCall[];
  recoveries: TargetRecovery[];
  /** Rows a target's clean-up left behind, removed once their calls were confirmed elsewhere. */
  stale_removed: number;
  /** Decision → every call re-created or given up (the time outside the re-INVITE window). */
  recreate_ms: number | null;
  /** The part of it spent in the targets' `fsctl recover` (the longest). */
  recover_ms: number | null;
  /** Where the metadata of failed and lost calls was written (node's data directory). */
  failed_file: string | null;
}

export interface MigrationSummary {
  id: string;
  kind: MigrationKind;
  source: string;
  phase: MigrationPhase;
  started_at: number;
  finished_at: number | null;
  calls: number;
  moved: number;
  lost: number;
  failed: number;
  recreate_ms: number | null;
  epoch: number;
}

/** A migration's record in counts: what the migrator keeps of finished ones, and shows of the one in progress. */
export function summarizeMigration(r: MigrationRecord): MigrationSummary {
  const count = (o: CallOutcome): number => r.calls.filter((c) => c.outcome === o).length;
  return {
    id: r.id,
    kind: r.kind,
    source: r.source,
    phase: r.phase,
    started_at: r.started_at,
    finished_at: r.finished_at,
    calls: r.calls.length,
    moved: count('moved'),
    lost: count('lost'),
    failed: count('failed'),
    recreate_ms: r.recreate_ms,
    epoch: r.epoch,
  };
}

export interface FarmStatus {
  hosts: FsHostStatus[];
  /** The migration in progress, if any. */
  active: MigrationRecord | null;
  /** Finished migrations, the newest last. */
  recent: MigrationSummary[];
  epoch: number | null;
  /**
   * What would defeat the recovery fencing, in plain words (a host connected to the core database without its
   * switchname as application_name, or as a role that bypasses row-level security; the policies not installed).
   */
  problems: string[];
}

/** The farm's call events after a sequence number (the stream other services and tools read). */
export interface CallEventsReply {
  events: (CallEvent & { seq: number })[];
  /** Ask again with this as `after`. */
  next: number;
  /** Events that left the bounded buffer before this read (0: nothing was lost to the reader). */
  missed: number;
  /** This run of the sequence numbers: pass it back with `after` (a new active instance numbers from 1 again). */
  stream: string;
  /** The `stream` asked with was an earlier one: these events are this stream's from its start. */
  restarted: boolean;
}

export type FsMigratorProtocol = {
  status: { request: null; reply: FarmStatus; scope: 'read' };
  events: {
    request: { after: number; limit?: number; stream?: string };
    reply: CallEventsReply;
    scope: 'read';
  };
  migration: { request: { id: string }; reply: MigrationRecord; scope: 'read' };
  /** Moves every answered call of `host` to the others (or to `to`); the host keeps running. */
  migrate: { request: { host: string; to?: string[] }; reply: { id: string }; scope: 'admin' };
  /** Pauses `host`, moves its calls, stops it without BYE. */
  drain: { request: { host: string; to?: string[] }; reply: { id: string }; scope: 'admin' };
};

export const FS_EVENT_TOPIC = 'freeswitch';
export const FS_MIGRATOR_STATE_KEY = 'freeswitch/migrator';
