import type {} from 'zod-openapi';
import { z } from 'zod';

/**
 * Response schemas of the PostgreSQL and backup controller facades (04-postgres.md), for the OpenAPI document. They
 * mirror `actors/pg/protocol.ts` and `actors/backup/protocol.ts`, which hold no secret: only server names
 * (`host:port`), positions, durations and plain-words reasons.
 */

const nullableNumber = z.number().nullable();

export const PgServerStatusSchema = z
  .object({
    name: z.string().meta({ description: '`<pg_host>:<pg_port>`', example: 'db1.local:5441' }),
    ssh: z.string(),
    role: z.enum(['primary', 'standby', 'down', 'unknown']),
    reachable: z.object({ db: z.boolean(), ssh: z.boolean().nullable() }),
    timeline: nullableNumber,
    lsn: z.string().nullable(),
    received_lsn: z.string().nullable(),
    replayed_lsn: z.string().nullable(),
    lag_bytes: nullableNumber.meta({ description: 'Standby: replay lag behind the primary in bytes' }),
    lag_seconds: nullableNumber.meta({ description: 'Standby: replay lag in seconds' }),
    checked_at: nullableNumber,
    error: z.string().nullable(),
    problems: z.array(z.string()),
  })
  .meta({ id: 'PgServerStatus' });

const PgChangeKind = z.enum(['postmaster-dead', 'host-lost', 'switchover', 'startup-repair']);
const PgRejoinMethod = z.enum(['rewind', 'basebackup', 'none']);

export const PgFailoverRecordSchema = z
  .object({
    at: z.number(),
    kind: PgChangeKind,
    from: z.string().nullable(),
    to: z.string(),
    epoch: z.number(),
    ms: z.number(),
    lag_bytes: nullableNumber,
    rejoin: z
      .object({ method: PgRejoinMethod, ok: z.boolean(), ms: z.number(), detail: z.string().optional() })
      .nullable(),
  })
  .meta({ id: 'PgFailoverRecord' });

export const PgClusterStatusSchema = z
  .object({
    key: z.string(),
    phase: z.enum([
      'starting',
      'watching',
      'failing-over',
      'rejoining',
      'switching-over',
      'repairing',
      'no-primary',
      'isolated',
    ]),
    reason: z.string().nullable(),
    primary: z.string().nullable(),
    epoch: nullableNumber,
    referee: z.object({ address: z.string(), reachable: z.boolean().nullable() }).nullable(),
    servers: z.array(PgServerStatusSchema),
    history: z.array(PgFailoverRecordSchema).meta({ description: 'Changes of primary, the newest last' }),
    last_failover: PgFailoverRecordSchema.nullable().meta({ description: 'The newest of `history`' }),
  })
  .meta({ id: 'PgClusterStatus' });

export const PgClusterEntry = z
  .object({
    key: z.string(),
    status: PgClusterStatusSchema.nullable(),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .meta({ description: 'Why the cluster’s controller did not answer (status is null then)' }),
  })
  .meta({ id: 'PgClusterEntry' });

export const PgClusterList = z.object({ clusters: z.array(PgClusterEntry) }).meta({ id: 'PgClusterList' });

export const PgKeyParams = z.object({
  key: z.string().min(1).max(128).meta({ description: 'Replicated cluster key (pg_controller[].key)' }),
});

export const PgSwitchoverBody = z
  .strictObject({
    server: z.string().min(1).meta({ description: 'The standby to promote', example: 'db2.local:5441' }),
    timeout_ms: z
      .int()
      .min(100)
      .max(600_000)
      .optional()
      .meta({ description: 'How long the target may take to catch up (default 30000)' }),
  })
  .meta({ id: 'PgSwitchoverRequest' });

export const PgSwitchoverReplySchema = z
  .object({ from: z.string(), to: z.string(), ms: z.number(), rejoin: PgRejoinMethod })
  .meta({ id: 'PgSwitchoverReply' });

const BackupStep = z.object({
  step: z.enum(['pick-server', 'basebackup', 'verify', 'zip', 'download', 'upload', 'sync']),
  target: z.string(),
  ok: z.boolean(),
  ms: z.number(),
  bytes: z.number().optional(),
  detail: z.string().optional(),
});

export const BackupRunReportSchema = z
  .object({
    started_at: z.number(),
    finished_at: z.number(),
    ok: z.boolean(),
    trigger: z.enum(['window', 'run-now']),
    steps: z.array(BackupStep),
    bytes: z.number(),
    error: z.string().nullable(),
  })
  .meta({ id: 'BackupRunReport' });

export const BackupStatusSchema = z
  .object({
    phase: z.enum(['idle', 'running', 'waiting-retry', 'disabled']),
    hours_interval: z.tuple([z.number(), z.number()]),
    weekdays: z.array(z.number()),
    next_at: nullableNumber.meta({ description: 'Wall-clock ms of the next attempt' }),
    last: BackupRunReportSchema.nullable(),
    last_success_at: nullableNumber,
    running_since: nullableNumber,
    age_seconds: nullableNumber.meta({ description: 'Since the end of the last good run (null: none yet)' }),
  })
  .meta({ id: 'BackupStatus' });
