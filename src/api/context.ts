import type { MutexService } from '../../actors/mutex/mutex-service.ts';
import type { Directory } from '../../supervisors/directory.ts';
import type { EventStream } from '../../supervisors/events.ts';
import type { TreeNode } from '../../supervisors/tree.ts';
import type { LogFeed } from '../log/feed.ts';
import type { Log } from '../log/log.ts';
import type { NodeMetrics } from '../metrics/metrics.ts';
import type { NodeState } from '../node/lifecycle.ts';
import type { Authenticator } from './auth.ts';
import type { z } from 'zod';
import type { ClusterView } from './schemas.ts';

/** What the API needs of its node. */
export interface ApiContext {
  readonly nodeName: string;
  readonly group: number;
  readonly cluster: string;
  state(): NodeState;
  /** Follows the node's lifecycle; returns the unsubscribe function. */
  onNodeState(listener: (state: NodeState) => void): () => void;
  readonly directory: Directory;
  readonly events: EventStream;
  tree(): TreeNode;
  clusterView(): Promise<z.infer<typeof ClusterView>>;
  readonly mutex: MutexService;
  readonly logs: LogFeed;
  readonly metrics: NodeMetrics;
  readonly auth: Authenticator;
  readonly log: Log;
  /** Removes every secret value of the node (topology secrets, API tokens) from text about to leave it. */
  readonly scrub: (text: string) => string;
}
