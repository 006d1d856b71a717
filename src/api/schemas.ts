import type {} from 'zod-openapi';
import { z } from 'zod';

/**
 * Request and response schemas of the message API. Requests are parsed with them once, at the edge; the OpenAPI
 * document is generated from them, so the two cannot drift apart.
 */

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable error code', example: 'MW_ERR_ACTOR_NOT_FOUND' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error', description: 'Every error has this shape' });

const ErrorShape = z.object({ name: z.string(), code: z.string(), message: z.string() });

export const MessageRequest = z
  .strictObject({
    type: z
      .string()
      .min(1)
      .max(128)
      .regex(/^(?!__)[A-Za-z0-9_.:-]+$/, {
        error: 'a message type is 1-128 letters, digits, _ . : - and does not start with __',
      })
      .meta({ example: 'info' }),
    payload: z.unknown().optional(),
    timeout_ms: z
      .int()
      .min(1)
      .max(300_000)
      .optional()
      .meta({ description: 'Reply deadline for ?reply=true (default 30000)' }),
  })
  .meta({ id: 'MessageRequest' });

export const MessageQuery = z.object({
  reply: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: 'true: wait for the reply (ask); otherwise tell' }),
});

export const AskReply = z.object({ result: z.unknown() }).meta({ id: 'AskReply' });
export const TellReply = z.object({ accepted: z.literal(true) }).meta({ id: 'TellReply' });

const ChildState = z.enum(['starting', 'running', 'restarting', 'stopping', 'stopped', 'failed']);

interface TreeNodeShape {
  path: string;
  id: string;
  kind: string;
  mode: string;
  state: string;
  restarts: number;
  restartTimes: number[];
  lastError?: { name: string; code: string; message: string };
  mailbox: number;
  pid?: number;
  startedAt?: number;
  strategy?: string;
  children?: TreeNodeShape[];
}

export const TreeNode: z.ZodType<TreeNodeShape> = z
  .object({
    path: z.string(),
    id: z.string(),
    kind: z.string(),
    mode: z.enum(['in-memory', 'forked', 'threaded', 'supervisor']),
    state: ChildState,
    restarts: z.int(),
    restartTimes: z.array(z.number()).meta({ description: 'Wall-clock ms of the latest restarts' }),
    lastError: ErrorShape.optional(),
    mailbox: z.int(),
    pid: z.int().optional(),
    startedAt: z.number().optional(),
    strategy: z.string().optional(),
    get children() {
      return z.array(TreeNode).optional();
    },
  })
  .meta({ id: 'TreeNode' });

export const TreeQuery = z.object({
  path: z.string().optional().meta({ description: 'Subtree root (default /); not with scope=cluster' }),
  scope: z
    .enum(['node', 'cluster'])
    .optional()
    .meta({
      description:
        'node (default): this node’s tree; cluster: every mware instance of the topology, each with its own tree ' +
        '(asked over the node channel, 2 s each, in parallel; an unreachable one has an error instead)',
    }),
});

export const NodeStats = z
  .object({
    at: z.number().meta({ description: 'Wall-clock ms of the snapshot' }),
    messages: z.int().meta({ description: 'Messages delivered to actors since the node started' }),
    restarts: z.int(),
    failures: z.int(),
    mailbox: z.int().meta({ description: 'Requests held or in flight, summed over every actor now' }),
    actors: z.int(),
    leadership_changes: z.int().meta({ description: 'New leaderships of the node’s group seen by it' }),
    epoch: z.int().nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'NodeStats', description: 'Running totals: a reader takes rates from two snapshots' });

export const ClusterTreeNode = z
  .object({
    name: z.string(),
    group: z.int(),
    role: z.enum(['active', 'passive', 'unknown']),
    state: z.string().nullable().meta({ description: 'Its lifecycle state (null: it did not answer)' }),
    self: z.boolean().meta({ description: 'The node that answered this request' }),
    tree: TreeNode.optional(),
    stats: NodeStats.optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional().meta({
      description: 'Why the node’s tree is missing (unreachable, too slow)',
    }),
  })
  .meta({ id: 'ClusterTreeNode' });

export const ClusterTree = z
  .object({ cluster: z.string(), nodes: z.array(ClusterTreeNode) })
  .meta({ id: 'ClusterTree', description: 'Every mware instance of the cluster, each with its tree' });

export const ActorDetails = z
  .object({
    node: TreeNode,
    parent: z.string().nullable(),
    restart: z.enum(['permanent', 'transient', 'temporary']).nullable(),
    shutdown: z.union([z.int(), z.enum(['infinity', 'brutal_kill'])]).nullable(),
    messages: z
      .array(z.object({ type: z.string(), scope: z.string(), summary: z.string() }))
      .meta({ description: 'The messages its kind takes from outside, with the scope each needs' }),
  })
  .meta({ id: 'ActorDetails' });

export const ActionReply = z.object({ path: z.string(), state: ChildState }).meta({ id: 'ActionReply' });

export const ClusterView = z
  .object({
    cluster: z.string(),
    node: z.string(),
    node_state: z.string(),
    site: z.string(),
    group: z.int(),
    coordination: z.object({ kind: z.string(), healthy: z.boolean(), detail: z.string().optional() }),
    epoch: z.int().nullable(),
    active: z.string().nullable(),
    members: z.array(
      z.object({
        name: z.string(),
        order: z.int(),
        server: z.string(),
        address: z.string(),
        role: z.enum(['active', 'passive', 'unknown']),
        self: z.boolean(),
        epoch: z.int().nullable().meta({ description: 'The epoch the member last advertised' }),
        state: z.string().nullable().meta({ description: 'Its lifecycle state as it last reported it' }),
        last_heartbeat_ms: z
          .number()
          .nullable()
          .meta({ description: 'Since its last heartbeat (0: this node)' }),
        lag_ms: z.number().nullable().meta({ description: 'Round trip of its last heartbeat' }),
      }),
    ),
  })
  .meta({ id: 'ClusterView' });

export const MutexKeyParams = z.object({
  key: z.string().min(1).max(256).meta({ description: 'Mutex key (URL-encoded)' }),
});

export const LockRequest = z
  .strictObject({
    owner: z
      .string()
      .min(1)
      .max(256)
      .meta({ description: 'The script handler holding the lock', example: 'ivr-handler-7f3a' }),
    mode: z.enum(['write', 'read']).default('write'),
    wait_ms: z
      .int()
      .min(0)
      .max(3_600_000)
      .default(0)
      .meta({ description: 'How long to wait in the FIFO queue' }),
    hold_ms: z
      .int()
      .min(1)
      .max(86_400_000)
      .default(60_000)
      .meta({ description: 'The grant expires after this regardless' }),
  })
  .meta({ id: 'LockRequest' });

export const LockGranted = z
  .object({
    granted: z.literal(true),
    token: z.int().meta({ description: 'Fencing token, increasing per key' }),
    expires_at: z.number(),
  })
  .meta({ id: 'LockGranted' });

export const LockNotGranted = z
  .object({ granted: z.literal(false), reason: z.enum(['timeout', 'released', 'stopped']) })
  .meta({ id: 'LockNotGranted' });

export const UnlockRequest = z
  .strictObject({ owner: z.string().min(1).max(256), token: z.int().positive() })
  .meta({ id: 'UnlockRequest' });
export const UnlockReply = z.object({ released: z.literal(true) }).meta({ id: 'UnlockReply' });

export const ReleaseOwnerRequest = z
  .strictObject({ owner: z.string().min(1).max(256) })
  .meta({ id: 'ReleaseOwnerRequest' });
export const ReleaseOwnerReply = z
  .object({ released: z.int(), cancelled: z.int(), keys: z.int() })
  .meta({ id: 'ReleaseOwnerReply' });

export const MutexInfo = z
  .object({
    key: z.string(),
    holders: z.array(
      z.object({
        owner: z.string(),
        mode: z.enum(['write', 'read']),
        token: z.int(),
        expires_at: z.number(),
      }),
    ),
    waiters: z.array(z.object({ owner: z.string(), mode: z.enum(['write', 'read']), waited_ms: z.number() })),
  })
  .meta({ id: 'MutexInfo' });

export const MutexList = z.object({ keys: z.array(z.string()) }).meta({ id: 'MutexList' });

export const LogsQuery = z.object({
  n: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(100)
    .meta({ description: 'Recent lines to send first' }),
  follow: z.enum(['true', 'false']).default('false'),
});

export const Health = z.object({ status: z.enum(['ok', 'ready', 'active']) }).meta({
  id: 'Health',
  description: 'Only the status: health checks carry no token, so they learn nothing else',
});
