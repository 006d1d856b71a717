import type { ClusterProtocol, ClusterStatus } from '../../actors/cluster/cluster-actor.ts';
import type { MutexService } from '../../actors/mutex/mutex-service.ts';
import { JobSchema } from '../../actors/svctasks/runner-actor.ts';
import { RUNNER_PATH } from '../../actors/svctasks/sites.ts';
import { parse } from '../api/route.ts';
import type { ApiToken } from '../../topology/schema.ts';
import { ActorRef } from '../actor-system/actor-ref.ts';
import { Authenticator } from '../api/auth.ts';
import type { ApiContext, ControllerServices } from '../api/context.ts';
import type { Routing } from '../api/forwarding.ts';
import { StreamLimiter } from '../api/sse.ts';
import type { CoordinationBackend } from '../coordination/backend.ts';
import type { LogFeed } from '../log/feed.ts';
import type { Log } from '../log/log.ts';
import { secretScrubber } from '../redaction.ts';
import type { NodeMetrics } from '../metrics/metrics.ts';
import type { Directory } from '../supervision/directory.ts';
import type { EventStream } from '../supervision/events.ts';
import type { TreeNode } from '../supervision/tree.ts';
import type { NodeState } from './lifecycle.ts';
import { availableParallelism, loadavg } from 'node:os';
import type { NodeEntry } from '../monitor/collector.ts';
import { NodeMonitor, SystemStateCollector } from '../monitor/collector.ts';
import type { Thresholds } from '../monitor/local-deviations.ts';
import type { Clock } from '../supervision/clock.ts';

/** What the API (the /api actor) reads and does on a node: built once per node. */

export interface ApiContextSources {
  name: string;
  group: number;
  cluster: string;
  state: () => NodeState;
  onNodeState: (listener: (s: NodeState) => void) => () => void;
  directory: Directory;
  events: EventStream;
  tree: () => TreeNode;
  coordination: CoordinationBackend;
  routing: Routing;
  mutex: MutexService;
  controllers: ControllerServices;
  logs: LogFeed;
  metrics: NodeMetrics;
  tokens: readonly ApiToken[];
  secrets: readonly string[];
  log: Log;
  /** What the system state needs beyond the above (src/monitor/). */
  monitor: MonitorSources;
}

export interface MonitorSources {
  site: string;
  /** Every mware node of the topology with its group and site. */
  nodes: readonly NodeEntry[];
  clock: Clock;
  /** Injected for tests; default `os.loadavg` and `os.availableParallelism`. */
  loadavg?: () => readonly number[];
  cores?: () => number;
  thresholds?: Partial<Thresholds>;
}

/** The cluster actor's view of the group (membership, who leads, the epoch). */
export function clusterStatus(directory: Directory): Promise<ClusterStatus> {
  return new ActorRef<ClusterProtocol>('/cluster', directory).ask('status', null, { timeoutMs: 5_000 });
}

export function buildApiContext(s: ApiContextSources): ApiContext {
  const scrub = secretScrubber(s.secrets);
  const m = s.monitor;
  // As the cluster tree says it: active only while the lease is held, passive, or (starting, draining…) unknown.
  const role = () => {
    const state = s.state();
    if (state === 'active') return s.coordination.leading() ? 'active' : 'passive';
    return state === 'passive' ? 'passive' : 'unknown';
  };
  const monitor = new NodeMonitor({
    node: s.name,
    site: m.site,
    group: s.group,
    directory: s.directory,
    clock: m.clock,
    coordination: () => s.coordination.status(),
    loadavg: m.loadavg ?? loadavg,
    cores: m.cores ?? availableParallelism,
    scrub,
    ...(m.thresholds && { thresholds: m.thresholds }),
    role,
    state: s.state,
  });
  const collector = new SystemStateCollector({
    cluster: s.cluster,
    self: s.name,
    nodes: () => m.nodes,
    local: () => monitor.report(),
    // The caller of the system state is authenticated where it entered; peers are asked as the node itself.
    askPeer: (name, timeoutMs) =>
      s.routing.askNode(
        name,
        { op: 'deviations', principal: { name: s.name, scopes: [] }, hops: 1 },
        timeoutMs,
      ),
    clock: m.clock,
    scrub,
  });
  return {
    nodeName: s.name,
    group: s.group,
    cluster: s.cluster,
    // The API sees a node whose lease term is over as passive at once, before the node has noticed (a stall).
    state: () => {
      const state = s.state();
      return state === 'active' && !s.coordination.leading() ? 'passive' : state;
    },
    onNodeState: s.onNodeState,
    coordination: () => s.coordination.status(),
    onCoordination: (listener) => s.coordination.onEvent(listener),
    directory: s.directory,
    events: s.events,
    tree: s.tree,
    clusterView: async () => {
      const c = await clusterStatus(s.directory);
      const coord = s.coordination.status();
      return {
        cluster: c.cluster,
        node: c.node,
        node_state: s.state(),
        site: c.site,
        group: c.group,
        coordination: { kind: coord.kind, healthy: coord.healthy, detail: coord.detail },
        epoch: c.epoch,
        active: c.active,
        members: c.members,
      };
    },
    mutex: s.mutex,
    controllers: s.controllers,
    routing: s.routing,
    logs: s.logs,
    metrics: s.metrics,
    auth: new Authenticator(s.tokens),
    log: s.log.child({ path: '/api' }),
    scrub,
    limiter: new StreamLimiter(),
    systemState: () => collector.collect(),
    nodeDeviations: () => monitor.report(),
    // Not a public message of the runner: only a peer node reaches it, over the node channel.
    runJob: async (job, timeoutMs) => {
      const runner = s.directory.get(RUNNER_PATH) ?? (await s.directory.resolve(RUNNER_PATH, 5_000));
      return runner.ask('execute', parse(JobSchema, job, 'job'), timeoutMs);
    },
  };
}
