import { mkdirSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import { join, resolve } from 'node:path';
import type { ClusterProtocol, ClusterStatus } from '../../actors/cluster/cluster-actor.ts';
import { MutexService } from '../../actors/mutex/mutex-service.ts';
import { ACTOR_MODES } from '../../actors/modes.ts';
import {
  apiChild,
  clusterChild,
  domainsChild,
  mutexesChild,
  ROOT_FLAGS,
} from '../../supervisors/application.ts';
import type { Clock } from '../../supervisors/clock.ts';
import { systemClock } from '../../supervisors/clock.ts';
import { Directory } from '../../supervisors/directory.ts';
import type { InspectionEvent } from '../../supervisors/events.ts';
import { EventStream } from '../../supervisors/events.ts';
import type { RuntimeEnv } from '../../supervisors/spec.ts';
import { ActorStats } from '../../supervisors/stats.ts';
import { Supervisor } from '../../supervisors/supervisor.ts';
import type { TreeNode } from '../../supervisors/tree.ts';
import { RoleNotFound, TopologyInvalid } from '../../topology/errors.ts';
import { loadTopologyFile } from '../../topology/load.ts';
import type { Placement } from '../../topology/placement.ts';
import { groupOfMutexKey, placementFor } from '../../topology/placement.ts';
import type { ApiToken, Topology } from '../../topology/schema.ts';
import { mwareRoles } from '../../topology/schema.ts';
import type { ActorRuntime } from '../actor-system/actor-child.ts';
import { DEFAULT_LIVENESS } from '../actor-system/actor-child.ts';
import { ActorRef } from '../actor-system/actor-ref.ts';
import { ComedySystem } from '../actor-system/comedy.ts';
import { Authenticator } from '../api/auth.ts';
import type { ApiContext } from '../api/context.ts';
import type { CoordinationBackend, Leadership } from '../coordination/backend.ts';
import { EmbeddedCoordination } from '../coordination/embedded.ts';
import { Unsupported } from '../coordination/errors.ts';
import type { SerializedError } from '../errors.ts';
import { serializeError } from '../errors.ts';
import { LogFeed } from '../log/feed.ts';
import type { Log } from '../log/log.ts';
import { createLogger, secretScrubber } from '../log/log.ts';
import { NodeMetrics } from '../metrics/metrics.ts';
import { FileStateStore } from '../state/file-store.ts';
import type { Persistence } from '../state/persistence.ts';
import { createPersistence } from '../state/persistence.ts';
import type { StateStore } from '../state/store.ts';
import { localAdminToken } from './api-token.ts';
import { NodeStartFailed } from './errors.ts';
import type { NodeState } from './lifecycle.ts';
import { canMove } from './lifecycle.ts';

/**
 * A cluster node: one role instance of the topology file, running its share of the supervision tree
 * (00-overview.md). Built from the file, it joins its group through coordination, always serves the API, runs
 * the group's subtrees while it is the active instance, and stops in reverse order.
 */

export const DEFAULT_TOPOLOGY = 'config/topology.example.yaml';

export interface NodeOptions {
  topologyFile: string;
  /** Role instance to run; may be omitted when the file has exactly one enabled mware instance. */
  role?: string;
  dataDir?: string;
  logPretty?: boolean;
  /** Where the node's log lines go (stdout when absent), and from which level. */
  logDestination?: DestinationStream;
  logLevel?: string;
  /** A logger of the caller's own instead (tests, benchmarks): it must scrub secrets itself. */
  log?: Log;
  clock?: Clock;
  /** Mutex actors stop after this long idle (default 30 s). */
  mutexIdleMs?: number;
}

/** How long a whole stop may take before the rest is cut short. */
const STOP_TIMEOUT_MS = 30_000;

interface NodeParts {
  topology: Topology;
  placement: Placement;
  dataDir: string;
  env: RuntimeEnv & { stats: ActorStats };
  store: StateStore;
  coordination: CoordinationBackend;
  leadership: Leadership;
  comedy: ComedySystem;
  tokens: ApiToken[];
  secrets: string[];
  logs: LogFeed;
  mutexIdleMs: number | undefined;
}

export class MwareNode {
  state: NodeState = 'starting';
  readonly topology: Topology;
  readonly placement: Placement;
  readonly dataDir: string;
  readonly events: EventStream;
  readonly directory: Directory;
  readonly log: Log;
  readonly clock: Clock;
  readonly mutex: MutexService;
  readonly metrics: NodeMetrics;
  readonly logs: LogFeed;
  /** What the API reads and does on this node (the /api actor serves it). */
  readonly api: ApiContext;
  /** Wall-clock time the node started. */
  readonly startedAt: number;
  /** Set when the node failed on its own (its root supervisor gave up). */
  failure: SerializedError | undefined;
  /** Resolves once the node has stopped, whatever stopped it. */
  readonly stopped: Promise<void>;
  private markStopped!: () => void;
  private readonly store: StateStore;
  private readonly persistence: Persistence;
  private readonly coordination: CoordinationBackend;
  private readonly comedy: ComedySystem;
  private readonly runtime: ActorRuntime;
  private readonly root: Supervisor;
  private readonly stateListeners = new Set<(s: NodeState) => void>();
  private leadership: Leadership | undefined;
  private stopping: Promise<void> | undefined;
  /** A running node holds the process open until it stops. */
  private readonly keepAlive = setInterval(() => undefined, 1 << 30);

  private constructor(p: NodeParts) {
    this.topology = p.topology;
    this.placement = p.placement;
    this.dataDir = p.dataDir;
    this.events = p.env.events;
    this.directory = p.env.directory;
    this.log = p.env.log;
    this.clock = p.env.clock;
    this.logs = p.logs;
    this.store = p.store;
    this.coordination = p.coordination;
    this.leadership = p.leadership;
    this.comedy = p.comedy;
    this.persistence = createPersistence(
      p.placement.role.state_mode,
      p.store,
      () => this.leadership?.epoch ?? 0,
      this.clock,
      this.log,
    );
    this.runtime = {
      comedy: p.comedy,
      state: this.persistence,
      liveness: DEFAULT_LIVENESS,
      startTimeoutMs: 30_000,
    };
    this.startedAt = this.clock.wallNow();
    this.stopped = new Promise((r) => (this.markStopped = r));
    this.mutex = new MutexService({
      runtime: this.runtime,
      mode: ACTOR_MODES.mutex,
      epoch: () => this.leadership?.epoch ?? 0,
      ownsKey: (key) => groupOfMutexKey(p.topology, p.placement.site, key) === p.placement.group,
      log: this.log,
      clock: this.clock,
      idleMs: p.mutexIdleMs,
    });
    this.metrics = new NodeMetrics({
      node: this.name,
      group: p.placement.group,
      stats: p.env.stats,
      directory: this.directory,
      events: this.events,
      mutex: this.mutex.stats,
      epoch: () => this.leadership?.epoch,
      active: () => this.state === 'active',
    });
    const { role } = p.placement;
    this.api = this.apiContext(p.tokens, p.secrets);
    this.root = new Supervisor(
      '/',
      ROOT_FLAGS,
      [
        clusterChild(this.runtime, {
          cluster: p.topology.cluster,
          node: role.name,
          site: p.placement.site,
          group: p.placement.group,
          coordination: p.coordination.kind,
          members: p.placement.members.map((m) => ({
            name: m.name,
            order: m.order,
            server: m.server,
            address: p.topology.servers.find((s) => s.name === m.server)?.ifaces[m.iface] ?? '',
          })),
        }),
        apiChild(this.runtime, {
          context: this.api,
          host: p.placement.address,
          port: role.api.port,
          tls: role.api.tls,
        }),
      ],
      p.env,
    );
  }

  get name(): string {
    return this.placement.role.name;
  }

  get epoch(): number | undefined {
    return this.leadership?.epoch;
  }

  /** Loads and validates the file, prepares the data directory, joins the group, and becomes active. */
  static async start(opts: NodeOptions): Promise<MwareNode> {
    const t0 = performance.now();
    const loaded = loadTopologyFile(opts.topologyFile);
    if (!loaded.ok) throw TopologyInvalid.of(loaded.file, loaded.problems);
    const topology = loaded.topology;
    const placement = placeRole(topology, opts.role, loaded.file);
    if (topology.coordination) {
      throw new Unsupported(
        'Redis coordination is not available in this build yet; remove the coordination section to run the embedded single-node default',
      );
    }
    const dataDir = resolve(opts.dataDir ?? join('data', placement.role.name));
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new NodeStartFailed(
        `cannot create the data directory ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const clock = opts.clock ?? systemClock;
    // Embedded leadership is the data directory's lock: taken before anything reads or writes the directory,
    // binds a port or starts an actor, so a second node started on it by mistake changes nothing.
    const coordination = new EmbeddedCoordination(dataDir, placement.role.name, clock);
    const leadership = await coordination.acquire();
    let node: MwareNode;
    try {
      const configured = topology.security.api_tokens;
      const local = configured.length === 0 ? localAdminToken(dataDir) : undefined;
      const tokens: ApiToken[] = local
        ? [{ name: 'local-admin', token: local.token, scopes: ['admin'] }]
        : configured;
      const secrets = [...loaded.secrets, ...tokens.map((t) => t.token)];
      const logs = new LogFeed();
      const log =
        opts.log ??
        createLogger({
          node: placement.role.name,
          group: placement.group,
          level: opts.logLevel,
          pretty: opts.logPretty,
          destination: opts.logDestination,
          secrets,
          feed: logs,
        });
      if (local)
        log.info(
          { file: local.file },
          'no api_tokens configured: the admin token for the shell and the API is in this file',
        );
      const store = await FileStateStore.open({ dir: join(dataDir, 'state') });
      node = new MwareNode({
        topology,
        placement,
        dataDir,
        env: {
          clock,
          random: Math.random,
          events: new EventStream(),
          directory: new Directory(clock),
          log,
          stats: new ActorStats(),
        },
        store,
        coordination,
        leadership,
        comedy: ComedySystem.create(log),
        tokens,
        secrets,
        logs,
        mutexIdleMs: opts.mutexIdleMs,
      });
    } catch (err) {
      await coordination.close();
      throw err;
    }
    const log = node.log;
    node.logEvents();
    try {
      node.move('joining');
      node.metrics.leadershipChanges.inc({ group: String(placement.group) });
      await node.root.start();
      await node.becomeActive();
    } catch (err) {
      log.error({ err: serializeError(err) }, 'node failed to start');
      await node.stop().catch(() => undefined);
      throw err;
    }
    log.info(
      {
        ms: Math.round(performance.now() - t0),
        epoch: leadership.epoch,
        domains: placement.domains.length,
        dataDir,
      },
      'node active',
    );
    void node.root.exited.then((reason) => {
      if (reason.kind === 'failed' && node.state !== 'draining' && node.state !== 'stopped') {
        node.log.fatal({ error: reason.error }, 'the root supervisor gave up; the node stops');
        node.failure = reason.error;
        node.move('failed');
        void node.stop();
      }
    });
    return node;
  }

  /** The live supervision tree, from the root. */
  tree(): TreeNode {
    return {
      path: '/',
      id: '/',
      kind: 'root',
      mode: 'supervisor',
      state: this.root.running ? 'running' : this.state === 'stopped' ? 'stopped' : 'stopping',
      restarts: 0,
      restartTimes: [],
      mailbox: 0,
      strategy: this.root.strategy,
      children: this.root.inspectChildren(),
    };
  }

  async clusterStatus(): Promise<ClusterStatus> {
    return new ActorRef<ClusterProtocol>('/cluster', this.directory).ask('status', null, {
      timeoutMs: 5_000,
    });
  }

  /** Stops intake, stops the group's subtrees then the rest in reverse order, saves state, releases leadership. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const t0 = performance.now();
    // Draining: the API answers 503 from here on, so clients retry elsewhere instead of losing requests.
    if (this.state !== 'failed') this.move('draining');
    this.log.info('node stopping');
    const work = (async () => {
      await this.demote();
      await this.persistence.close();
      await this.root.stop('infinity');
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS)));
    const outcome = await Promise.race([
      work.then(
        () => 'done' as const,
        (err: unknown) => (
          this.log.error({ err: serializeError(err) }, 'error while stopping'),
          'done' as const
        ),
      ),
      timedOut,
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log.error(`stop took longer than ${STOP_TIMEOUT_MS} ms; killing what is left`);
      this.root.kill();
    }
    await this.store
      .close()
      .catch((err: unknown) =>
        this.log.error({ err: serializeError(err) }, 'closing the state store failed'),
      );
    await this.comedy.destroy().catch(() => undefined);
    // Last: until the store is closed, this node still writes the data directory, so no other may take it.
    await this.coordination.close();
    this.move('stopped');
    this.log.info({ ms: Math.round(performance.now() - t0) }, 'node stopped');
    this.log.flush();
    clearInterval(this.keepAlive);
    this.markStopped();
  }

  private async becomeActive(): Promise<void> {
    const restored = await this.mutex.restoredChildren();
    await this.root.startChild(domainsChild(this.runtime, this.placement, this.topology.domains));
    await this.root.startChild(mutexesChild(this.mutex, restored));
    this.move('active');
    await this.tellCluster();
  }

  /** Stops the group's subtrees, newest first. */
  private async demote(): Promise<void> {
    this.mutex.detach();
    for (const id of ['mutexes', 'domains']) {
      if (this.root.child(id)) await this.root.terminateChild(id).catch(() => undefined);
    }
  }

  private async tellCluster(): Promise<void> {
    const active = this.state === 'active' ? this.name : null;
    await new ActorRef<ClusterProtocol>('/cluster', this.directory).ask('leadership', {
      active,
      epoch: this.leadership?.epoch ?? null,
    });
  }

  private move(to: NodeState): void {
    if (this.state === to) return;
    if (!canMove(this.state, to)) this.log.warn({ from: this.state, to }, 'unexpected node state transition');
    this.log.info({ from: this.state, to }, 'node state');
    this.state = to;
    for (const l of this.stateListeners) l(to);
  }

  /** What the API (the /api actor) reads and does on this node. */
  private apiContext(tokens: ApiToken[], secrets: string[]): ApiContext {
    return {
      nodeName: this.name,
      group: this.placement.group,
      cluster: this.topology.cluster,
      state: () => this.state,
      onNodeState: (listener) => {
        this.stateListeners.add(listener);
        return () => this.stateListeners.delete(listener);
      },
      directory: this.directory,
      events: this.events,
      tree: () => this.tree(),
      clusterView: async () => {
        const c = await this.clusterStatus();
        const coord = this.coordination.status();
        return {
          cluster: c.cluster,
          node: c.node,
          node_state: this.state,
          site: c.site,
          group: c.group,
          coordination: { kind: coord.kind, healthy: coord.healthy },
          epoch: c.epoch,
          active: c.active,
          members: c.members,
        };
      },
      mutex: this.mutex,
      logs: this.logs,
      metrics: this.metrics,
      auth: new Authenticator(tokens),
      log: this.log.child({ path: '/api' }),
      scrub: secretScrubber(secrets),
    };
  }

  /** Inspection events as log lines: failures loud, routine lifecycle at debug. */
  private logEvents(): void {
    this.events.subscribe((e: InspectionEvent) => {
      switch (e.type) {
        case 'failed':
          this.log.warn({ path: e.path, error: e.error }, 'actor failed');
          return;
        case 'escalated':
          this.log.error({ path: e.path, error: e.error }, 'supervisor escalated');
          return;
        case 'restarted':
          this.log.info(
            { path: e.path, restarts: e.restarts, delayMs: e.delayMs, manual: e.manual },
            'actor restarted',
          );
          return;
        case 'started':
          this.log.debug({ path: e.path, kind: e.kind, mode: e.mode, pid: e.pid }, 'actor started');
          return;
        case 'stopped':
          this.log.debug({ path: e.path, reason: e.reason }, 'actor stopped');
          return;
        case 'state-changed':
          return;
        default: {
          const never: never = e;
          return never;
        }
      }
    });
  }
}

/** The role to run: the one named, or the file's only enabled mware instance. */
function placeRole(topology: Topology, role: string | undefined, file: string): Placement {
  const roles = mwareRoles(topology).map((r) => r.name);
  const name = role ?? (roles.length === 1 ? roles[0] : undefined);
  if (name === undefined) {
    throw new RoleNotFound(
      `the file has ${roles.length} enabled mware instances (${roles.join(', ') || 'none'}); choose one with --role`,
    );
  }
  const placement = placementFor(topology, name);
  if (!placement)
    throw new RoleNotFound(
      `"${name}" is not an enabled mware instance of ${file} (enabled: ${roles.join(', ') || 'none'})`,
    );
  return placement;
}
