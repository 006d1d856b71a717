import type {} from 'zod-openapi';
import { z } from 'zod';
import type {
  CallOutcome,
  FarmStatus,
  FsChannel,
  MigrationPhase,
  MigrationRecord,
  MigrationSummary,
} from '../../actors/freeswitch/protocol.ts';

/**
 * Request and response schemas of the FreeSWITCH farm's facade (05-freeswitch.md "Shell / API"), for the OpenAPI
 * document and the client's types. They mirror `actors/freeswitch/protocol.ts`, which holds no secret (host names,
 * UUIDs, numbers, counts and plain-words causes; never an ESL or database password); the `satisfies` checks at the
 * end keep the two from drifting apart.
 */

const nullableNumber = z.number().nullable();
const nullableString = z.string().nullable();

const PHASES = [
  'planning',
  'pausing',
  'handing-over',
  'stopping-source',
  'recovering',
  'confirming',
  'cleaning',
  'done',
  'failed',
] as const satisfies readonly MigrationPhase[];
export const OUTCOMES = [
  'planned',
  'handed',
  'recreated',
  'moved',
  'lost',
  'failed',
] as const satisfies readonly CallOutcome[];

const MigrationKindSchema = z.enum(['failover', 'drain', 'migrate']);
const MigrationPhaseSchema = z.enum(PHASES);

export const FsHostStatusSchema = z
  .object({
    name: z.string().meta({ example: 'fs01' }),
    switchname: z.string(),
    state: z.enum(['connecting', 'up', 'not-ready', 'down']),
    since: z.number().meta({ description: 'Wall-clock ms the state began' }),
    core_uuid: nullableString.meta({
      description: 'The running FreeSWITCH’s core UUID (new at every start)',
    }),
    sessions: z.number(),
    max_sessions: z.number(),
    idle_cpu: nullableNumber,
    paused: z.boolean().meta({ description: 'New calls refused (`fsctl pause`)' }),
    channels: z.number().meta({ description: 'Live channels the host actor tracks' }),
    profiles: z.array(z.string()),
    error: nullableString,
    problems: z.array(z.string()),
  })
  .meta({ id: 'FsHostStatus' });

export const FsChannelSchema = z
  .object({
    uuid: z.string(),
    direction: z.enum(['inbound', 'outbound']).nullable(),
    state: z.string().meta({ description: 'FreeSWITCH’s Channel-State, e.g. CS_EXECUTE' }),
    answered: z.boolean(),
    partner: nullableString.meta({ description: 'UUID of the bridged leg' }),
    conference: nullableString,
    profile: nullableString,
    domain: nullableString,
    caller: nullableString,
    callee: nullableString,
    callId: nullableString,
    recovered: z.boolean().meta({ description: 'Re-created here by a recovery' }),
  })
  .meta({ id: 'FsChannel' });

export const MigrationCallSchema = z
  .object({
    id: z.string(),
    legs: z.array(z.string()).meta({ description: 'UUIDs of the call’s legs' }),
    target: nullableString,
    outcome: z.enum(OUTCOMES),
    cause: nullableString.meta({ example: 'RECOVERY_ON_TIMER_EXPIRE' }),
    domain: nullableString,
    caller: nullableString,
    callee: nullableString,
    conference: nullableString,
    recreated: z.number().meta({ description: 'Legs seen re-created on the target' }),
    bridged: z.boolean(),
  })
  .meta({ id: 'FsMigrationCall' });

const TargetRecoverySchema = z.object({
  target: z.string(),
  handed: z.boolean(),
  sent: z.boolean(),
  reply: nullableString.meta({
    description: 'FreeSWITCH’s reply to `fsctl recover` (not proof of anything)',
  }),
  count: nullableNumber,
  ms: nullableNumber,
});

export const MigrationRecordSchema = z
  .object({
    id: z.string(),
    kind: MigrationKindSchema,
    source: z.string(),
    source_core_uuid: nullableString,
    allowed: z.array(z.string()).meta({ description: 'Targets the operator allowed (empty: any)' }),
    epoch: z.number(),
    started_at: z.number(),
    finished_at: nullableNumber,
    phase: MigrationPhaseSchema,
    reason: nullableString,
    calls: z.array(MigrationCallSchema),
    recoveries: z.array(TargetRecoverySchema),
    stale_removed: z.number(),
    recreate_ms: nullableNumber.meta({ description: 'Decision → every call re-created or given up' }),
    recover_ms: nullableNumber.meta({ description: 'The longest `fsctl recover` of the targets' }),
    failed_file: nullableString.meta({ description: 'Where the metadata of failed and lost calls was kept' }),
  })
  .meta({ id: 'FsMigrationRecord' });

export const MigrationSummarySchema = z
  .object({
    id: z.string(),
    kind: MigrationKindSchema,
    source: z.string(),
    phase: MigrationPhaseSchema,
    started_at: z.number(),
    finished_at: nullableNumber,
    calls: z.number(),
    moved: z.number(),
    lost: z.number(),
    failed: z.number(),
    recreate_ms: nullableNumber,
    epoch: z.number(),
  })
  .meta({ id: 'FsMigrationSummary' });

export const FarmStatusSchema = z
  .object({
    hosts: z.array(FsHostStatusSchema),
    active: MigrationRecordSchema.nullable().meta({ description: 'The migration in progress, if any' }),
    recent: z.array(MigrationSummarySchema).meta({ description: 'Finished migrations, the newest last' }),
    epoch: nullableNumber,
    problems: z.array(z.string()).meta({
      description:
        'What would defeat the recovery fencing (row-level security on the core database), in plain words',
    }),
  })
  .meta({ id: 'FsFarmStatus' });

export const FsHostCallsSchema = z
  .object({
    host: z.string(),
    channels: z.array(FsChannelSchema).nullable(),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .meta({ description: 'Why the host’s actor did not answer (channels is null then)' }),
  })
  .meta({ id: 'FsHostCalls' });

export const FsCallsSchema = z.object({ hosts: z.array(FsHostCallsSchema) }).meta({ id: 'FsCalls' });

export const FsMigrationListSchema = z
  .object({
    active: MigrationSummarySchema.nullable().meta({ description: 'The migration in progress, if any' }),
    recent: z.array(MigrationSummarySchema).meta({ description: 'Finished migrations, the newest last' }),
  })
  .meta({ id: 'FsMigrationList' });

export const FsCallsQuery = z.strictObject({
  host: z.string().min(1).max(128).optional().meta({ description: 'Only this host’s channels' }),
});

export const FsHostParams = z.object({
  host: z.string().min(1).max(128).meta({ description: 'A host of the role’s `freeswitch.hosts`' }),
});

export const FsMigrationParams = z.object({
  id: z.string().min(1).max(128).meta({ description: 'A migration id (from migrate, drain or the list)' }),
});

export const FsMoveBody = z
  .strictObject({
    to: z.array(z.string().min(1).max(128)).max(64).optional().meta({
      description: 'Targets allowed (default: every live, unpaused host running the needed profiles)',
    }),
  })
  .meta({ id: 'FsMoveRequest' });

export const FsMoveReplySchema = z
  .object({
    id: z.string().meta({
      description: 'The migration’s id; `queued:<host>` when another migration runs first',
    }),
  })
  .meta({ id: 'FsMoveReply' });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
/** Compile time only: the schemas describe exactly what the actors answer (a change in protocol.ts fails here). */
export type FsSchemasAgree = [
  Expect<Same<z.infer<typeof FarmStatusSchema>, FarmStatus>>,
  Expect<Same<z.infer<typeof MigrationRecordSchema>, MigrationRecord>>,
  Expect<Same<z.infer<typeof MigrationSummarySchema>, MigrationSummary>>,
  Expect<Same<z.infer<typeof FsChannelSchema>, FsChannel>>,
];
