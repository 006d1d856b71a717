import type { Directory } from '../supervision/directory.ts';
import type { EventStream } from '../supervision/events.ts';
import type { TreeNode } from '../supervision/tree.ts';
import type { LogFeed } from '../log/feed.ts';
import type { Log } from '../log/log.ts';
import type { NodeMetrics } from '../metrics/metrics.ts';
import type { NodeState } from '../node/lifecycle.ts';
import type { CoordinationEvent, CoordinationStatus } from '../coordination/backend.ts';
import type { Authenticator } from './auth.ts';
import type { StreamLimiter } from './sse.ts';
import type { Routing } from './forwarding.ts';
import type { z } from 'zod';
import type { NodeDeviations, SystemState } from '../monitor/schemas.ts';
import type {
  ClusterView,
  LockGranted,
  LockNotGranted,
  LockRequest,
  MutexInfo,
  ReleaseOwnerReply,
  UnlockRequest,
} from './schemas.ts';

/** What the mutex facade routes need of the node's mutex service (the service lives with the mutex actors). */
export interface MutexFacade {
  lock(
    key: string,
    req: z.infer<typeof LockRequest>,
  ): Promise<z.infer<typeof LockGranted> | z.infer<typeof LockNotGranted>>;
  unlock(key: string, req: z.infer<typeof UnlockRequest>): Promise<unknown>;
  releaseOwner(owner: string): Promise<z.infer<typeof ReleaseOwnerReply>>;
  inspect(key: string): Promise<z.infer<typeof MutexInfo>>;
  liveKeys(): string[];
}

/** The controllers the node's role declares (they run on its group's active instance). */
export interface ControllerServices {
  /** Keys of the role's `pg_controller` clusters, in the file's order (empty: none). */
  readonly pg: readonly string[];
  /** The role has a `backup_controller`. */
  readonly backup: boolean;
  /** Host names of the role's `freeswitch` farm, in the file's order (empty: no farm). */
  readonly freeswitch: readonly string[];
}

/** What the API needs of its node. */
export interface ApiContext {
  readonly nodeName: string;
  readonly group: number;
  readonly cluster: string;
  state(): NodeState;
  /** Follows the node's lifecycle; returns the unsubscribe function. */
  onNodeState(listener: (state: NodeState) => void): () => void;
  /** The group's coordination now (health, who leads), and its changes as they happen. */
  coordination(): CoordinationStatus;
  onCoordination(listener: (e: CoordinationEvent) => void): () => void;
  readonly directory: Directory;
  readonly events: EventStream;
  tree(): TreeNode;
  clusterView(): Promise<z.infer<typeof ClusterView>>;
  readonly mutex: MutexFacade;
  readonly controllers: ControllerServices;
  /** Where group work is served: here, or forwarded to the active instance of the group that owns it. */
  readonly routing: Routing;
  readonly logs: LogFeed;
  readonly metrics: NodeMetrics;
  readonly auth: Authenticator;
  readonly log: Log;
  /** Removes every secret value of the node (topology secrets, API tokens) from text about to leave it. */
  readonly scrub: (text: string) => string;
  /** Open event streams, bounded (see sse.ts). */
  readonly limiter: StreamLimiter;
  /** The system state: every node's deviations (src/monitor/collector.ts). */
  systemState(): Promise<SystemState>;
  /** This node's own deviations (what a peer collecting the system state asks it). */
  nodeDeviations(): Promise<NodeDeviations>;
  /** Runs a service task's firing sent by another site's scheduler with this node's runner; resolves with its outcome. */
  runJob(job: unknown, timeoutMs: number): Promise<unknown>;
}
