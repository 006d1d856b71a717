import { MutexService } from '../../actors/mutex/mutex-service.ts';
import { ACTOR_MODES } from '../../actors/modes.ts';
import { apiChild, clusterChild, ROOT_FLAGS } from '../../supervisors/root.ts';
import type { Placement } from '../../topology/placement.ts';
import { groupOfMutexKey } from '../../topology/placement.ts';
import type { Topology } from '../../topology/schema.ts';
import { mwareRoles } from '../../topology/schema.ts';
import type { NodeEntry } from '../monitor/collector.ts';
import type { ActorRuntime } from '../actor-system/actor-child.ts';
import { DEFAULT_LIVENESS } from '../actor-system/actor-child.ts';
import type { ClusterStatus, GroupSnapshot, MemberView } from '../../actors/cluster/cluster-actor.ts';
import type { MwareRole } from '../../topology/schema.ts';
import type { ApiContext } from '../api/context.ts';
import { startApiServer } from '../api/server.ts';
import type { Leadership } from '../coordination/backend.ts';
import type { SerializedError } from '../errors.ts';
import { serializeError } from '../errors.ts';
import type { LogFeed } from '../log/feed.ts';
import type { Log } from '../log/log.ts';
import { NodeMetrics } from '../metrics/metrics.ts';
import type { Persistence } from '../state/persistence.ts';
import { createPersistence } from '../state/persistence.ts';
import type { Clock } from '../supervision/clock.ts';
import type { Directory } from '../supervision/directory.ts';
import type { EventStream } from '../supervision/events.ts';
import { Supervisor } from '../supervision/supervisor.ts';
import type { TreeNode } from '../supervision/tree.ts';
import { buildApiContext, clusterStatus } from './api-context.ts';
import type { NodeParts } from './assemble.ts';
import { assembleNode } from './assemble.ts';
import { GroupSubtrees, noticeTo } from './group.ts';
import type { NodeState } from './lifecycle.ts';
import { canMove } from './lifecycle.ts';
import { logCoordinationEvents, logInspectionEvents } from './log-events.ts';
import type { NodeOptions } from './options.ts';
import { runStopSteps } from './shutdown.ts';
import { NodeRouting } from './routing.ts';
import { runForwarded } from '../api/dispatch.ts';
import { ForwardedRequestSchema } from '../api/forwarding.ts';

export { DEFAULT_TOPOLOGY } from './options.ts';
export type { NodeOptions } from './options.ts';

/**
 * A cluster node: one role instance of the topology file, running its share of the supervision tree
 * (00-overview.md). Its lifecycle (02-runtime.md) is `starting → joining → passive | active → draining → stopped`:
 * - starting: built from the file, its data directory locked ({@link assembleNode});
 * - joining: the root tree (`cluster`, `api`) runs, the node waits for its group's leadership;
 * - active: the group's subtrees run ({@link GroupSubtrees}), their state restored first;
 * - draining → stopped: the steps of {@link MwareNode.stop}, in their order.
 * Every transition goes through {@link move}, which checks it against the lifecycle and tells listeners.
 */
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
  /** What the API (the /api actor) reads and does on this node. */
  readonly api: ApiContext;
  /** Wall-clock time the node started. */
  readonly startedAt: number;
  /** Set when the node failed on its own (its root supervisor gave up). */
  failure: SerializedError | undefined;
  /** Resolves once the node has stopped, whatever stopped it. */
  readonly stopped: Promise<void>;
  private markStopped!: () => void;
  private readonly parts: NodeParts;
  private readonly persistence: Persistence;
  /** What every actor of this node shares (comedy, state, liveness): for starting actors under its supervisors. */
  readonly runtime: ActorRuntime;
  private readonly root: Supervisor;
  private readonly group: GroupSubtrees;
  private readonly stateListeners = new Set<(s: NodeState) => void>();
  private leadership: Leadership | undefined;
  private stopping: Promise<void> | undefined;
  private transitions: Promise<void> = Promise.resolve();
  /** Resolves the lead loop's wait when the lease is lost. */
  private demoted: (() => void) | undefined;
  /** A running node holds the process open until it stops. */
  private readonly keepAlive = setInterval(() => undefined, 1 << 30);

  private constructor(p: NodeParts) {
    this.parts = p;
    this.topology = p.topology;
    this.placement = p.placement;
    this.dataDir = p.dataDir;
    this.events = p.env.events;
    this.directory = p.env.directory;
    this.log = p.env.log;
    this.clock = p.env.clock;
    this.logs = p.logs;
    this.startedAt = this.clock.wallNow();
    this.stopped = new Promise((r) => (this.markStopped = r));
    const epoch = () => this.leadership?.epoch ?? 0;
    this.persistence = createPersistence(p.placement.role.state_mode, p.store, epoch, this.clock, this.log);
    this.runtime = {
      comedy: p.comedy,
      state: this.persistence,
      liveness: DEFAULT_LIVENESS,
      startTimeoutMs: 30_000,
    };
    this.mutex = new MutexService({
      runtime: this.runtime,
      mode: ACTOR_MODES.mutex,
      epoch,
      leading: () => p.coordination.leading(),
      ownsKey: (key) => groupOfMutexKey(p.topology, p.placement.site, key) === p.placement.group,
      log: this.log,
      clock: this.clock,
      idleMs: p.mutexIdleMs ?? p.placement.role.mutex.idle_ms,
      maxKeys: p.placement.role.mutex.max_keys,
    });
    this.metrics = new NodeMetrics({
      node: this.name,
      group: p.placement.group,
      stats: p.env.stats,
      directory: this.directory,
      events: this.events,
      mutex: this.mutex.stats,
      coordination: p.coordination,
      active: () => this.state === 'active' && p.coordination.leading(),
      peers: () => p.cluster?.membership.view().filter((m) => !m.self) ?? [],
      liveMembers: () => p.cluster?.membership.liveMembers().size ?? 1,
      pgClusters: p.placement.role.pg_controller.map((c) => c.key),
      monitors: p.placement.role.monitors.map((m) => m.name),
      ctiAdapters: p.placement.role.cti_adapters.map((a) => a.key),
    });
    this.api = buildApiContext({
      name: this.name,
      group: p.placement.group,
      cluster: p.topology.cluster,
      state: () => this.state,
      onNodeState: (listener) => {
        this.stateListeners.add(listener);
        return () => this.stateListeners.delete(listener);
      },
      directory: this.directory,
      events: this.events,
      tree: () => this.tree(),
      coordination: p.coordination,
      routing: new NodeRouting({
        topology: p.topology,
        placement: p.placement,
        state: () => this.state,
        coordination: p.coordination,
        cluster: p.cluster,
        clock: this.clock,
      }),
      mutex: this.mutex,
      controllers: {
        pg: p.placement.role.pg_controller.map((c) => c.key),
        backup: p.placement.role.backup_controller !== undefined,
        freeswitch: p.placement.role.freeswitch?.hosts.map((h) => h.name) ?? [],
      },
      logs: this.logs,
      metrics: this.metrics,
      tokens: p.tokens,
      secrets: p.secrets,
      log: this.log,
      monitor: { site: p.placement.site, nodes: monitoredNodes(p.topology), clock: this.clock },
    });
    const { role } = p.placement;
    const address = p.placement.address;
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
          snapshot: () => this.groupSnapshot(),
        }),
        apiChild(this.runtime, {
          listen: () =>
            startApiServer({ ctx: this.api, host: address, port: role.api.port, tls: role.api.tls }),
        }),
      ],
      p.env,
    );
    this.group = new GroupSubtrees(this.root, {
      runtime: this.runtime,
      placement: p.placement,
      topology: p.topology,
      listedDomains: p.topology.domains,
      mutex: this.mutex,
      dataDir: p.dataDir,
      epoch,
      leading: () => p.coordination.leading(),
      clock: this.clock,
      log: this.log,
      events: this.events,
      directory: this.directory,
      systemState: () => this.api.systemState(),
      state: this.persistence,
      peers: p.cluster && {
        holderOf: async (group) => (await p.cluster?.coordination.holderOf(group))?.holder,
        runJob: async (name, job, timeoutMs) => {
          const principal = { name: 'svctasks', scopes: [] };
          const request = { op: 'run-job' as const, job, timeoutMs, principal, hops: 1 };
          return this.api.routing.askNode(name, request, timeoutMs);
        },
      },
    });
  }

  get name(): string {
    return this.placement.role.name;
  }

  get epoch(): number | undefined {
    return this.leadership?.epoch;
  }

  /** Loads and validates the file, locks the data directory, joins the group, and becomes active. */
  static async start(opts: NodeOptions): Promise<MwareNode> {
    const node = new MwareNode(await assembleNode(opts));
    logInspectionEvents(node.events, node.log);
    logCoordinationEvents(node.parts.coordination, node.log);
    try {
      await node.join();
    } catch (err) {
      node.log.error({ err: serializeError(err) }, 'node failed to start');
      await node.stop().catch(() => undefined);
      throw err;
    }
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

  /**
   * joining: the root tree runs (the API answers). On the embedded default the node then leads at once. In a
   * cluster it joins the node channel and its group's heartbeats as a passive member and leads whenever its turn
   * comes ({@link leadLoop}), for as long as it runs.
   */
  private async join(): Promise<void> {
    this.move('joining');
    await this.root.start();
    const cluster = this.parts.cluster;
    this.parts.report.current = () => ({
      role: this.state === 'active' && this.parts.coordination.leading() ? 'active' : 'passive',
      epoch: this.leadership?.epoch ?? null,
      state: this.state,
    });
    if (!cluster) {
      await this.lead();
      return;
    }
    this.parts.coordination.onLost((reason) => void this.demote(reason));
    cluster.onRequest((_from, body) => runForwarded(this.api, ForwardedRequestSchema.parse(body)));
    await cluster.start();
    this.move('passive');
    this.log.info('node joined its group as a passive member');
    void this.leadLoop();
  }

  /** A cluster member's life: lead when its turn comes, step back when the lease is lost, until the node stops. */
  private async leadLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.lead();
      } catch (err) {
        if (this.stopping) return;
        this.log.error({ err: serializeError(err) }, 'could not become active; trying again');
        await this.parts.coordination.release().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      await new Promise<void>((resolve) => (this.demoted = resolve));
    }
  }

  /** Takes the group's leadership (waiting for its turn), restores the group's state and starts its subtrees. */
  private async lead(): Promise<void> {
    const leadership = await this.parts.coordination.acquire();
    const t0 = performance.now();
    await this.transition(async () => {
      if (this.stopping || !this.parts.coordination.leading()) return;
      this.leadership = leadership;
      await this.group.start();
      this.move('active');
      this.noticeTakeover(leadership.epoch);
      this.log.info(
        {
          ms: Math.round(performance.now() - t0),
          epoch: leadership.epoch,
          domains: this.placement.domains.length,
          dataDir: this.dataDir,
        },
        'node active',
      );
    });
  }

  /**
   * After a takeover, once the group's services run (so the syslog → SNMP service traps it): a notice (topic
   * `cluster`) saying whether the previous active was lost (`active-lost`, warn) or handed over while draining
   * (`handed-over`, info). The previous active is the member whose heartbeats last advertised the highest epoch
   * below ours; a draining node announces its state at once ({@link Membership.announce}), while a dead or silent
   * one was last heard active. Nothing is said for the group's first active.
   */
  private noticeTakeover(epoch: number): void {
    const previous = this.parts.cluster?.membership.previousActive(epoch);
    if (!previous) return;
    const planned = previous.state === 'draining' || previous.state === 'stopped';
    const group = this.placement.group;
    noticeTo(
      this.events,
      this.clock,
      '/cluster',
    )({
      type: 'notice',
      topic: 'cluster',
      event: planned ? 'handed-over' : 'active-lost',
      level: planned ? 'info' : 'warn',
      message: planned
        ? `group ${group}: ${previous.name} handed over while draining; ${this.name} is active at epoch ${epoch}`
        : `group ${group}: its active ${previous.name} was lost; ${this.name} took over at epoch ${epoch}`,
      epoch,
      data: { group, previous: previous.name, previousEpoch: previous.epoch, previousState: previous.state },
    });
  }

  /** The lease is lost: every side effect stops first, then the node is a passive member again. */
  private async demote(reason: string): Promise<void> {
    await this.transition(async () => {
      if (this.state !== 'active') return;
      this.move('passive');
      this.log.warn({ reason }, 'no longer the active instance of the group; stopping its subtrees');
      await this.group.stop();
      this.leadership = undefined;
    });
    this.demoted?.();
  }

  /** Group subtrees start and stop one change at a time. */
  private transition(fn: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(fn);
    this.transitions = next.catch(() => undefined);
    return next;
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

  /** The group now: who leads (coordination), and every member as heartbeats show it (this node alone if embedded). */
  private groupSnapshot(): GroupSnapshot {
    const p = this.parts;
    const l = p.coordination.status().leadership;
    const active = l?.holder ?? null;
    const address = (m: MwareRole) =>
      p.topology.servers.find((s) => s.name === m.server)?.ifaces[m.iface] ?? '';
    const seen = new Map((p.cluster?.membership.view() ?? []).map((v) => [v.name, v]));
    const members = p.placement.members.map((m): MemberView => {
      const v = seen.get(m.name);
      const self = m.name === this.name;
      const role = self
        ? this.state === 'active' && p.coordination.leading()
          ? 'active'
          : 'passive'
        : m.name === active
          ? 'active'
          : (v?.role ?? 'unknown');
      return {
        name: m.name,
        order: m.order,
        server: m.server,
        address: address(m),
        role,
        self,
        epoch: self ? (this.leadership?.epoch ?? null) : (v?.epoch ?? null),
        state: self ? this.state : (v?.state ?? null),
        last_heartbeat_ms: self ? 0 : (v?.lastHeardMs ?? null),
        lag_ms: self ? 0 : (v?.rttMs ?? null),
      };
    });
    return { active, epoch: l?.epoch ?? null, members };
  }

  clusterStatus(): Promise<ClusterStatus> {
    return clusterStatus(this.directory);
  }

  /** draining → stopped: the stop sequence, once, whoever asks. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    const t0 = performance.now();
    // Draining: the API answers 503 from here on, so clients retry elsewhere instead of losing requests.
    if (this.state !== 'failed') this.move('draining');
    // The peers learn now that this is a planned hand-over (see noticeTakeover), before the lease is given up.
    this.parts.cluster?.membership.announce();
    this.log.info('node stopping');
    const p = this.parts;
    await runStopSteps(
      [
        {
          name: 'stop the group’s subtrees',
          run: () => this.transition(() => this.group.stop()),
          bounded: true,
        },
        // Periodic state is written under this node's epoch, so before leadership (and the epoch) is given up.
        { name: 'write periodic state', run: () => this.persistence.close(), bounded: true },
        { name: 'give up leadership', run: () => this.release() },
        { name: 'stop the root tree', run: () => this.root.stop('infinity'), bounded: true },
        { name: 'close the state store', run: () => p.store.close() },
        { name: 'close the actor system', run: () => p.comedy.destroy() },
        { name: 'close coordination', run: () => (p.cluster ? p.cluster.close() : p.coordination.close()) },
        { name: 'release the data directory', run: () => p.lock.release() },
      ],
      { clock: this.clock, log: this.log, onLate: () => this.root.kill() },
    );
    this.move('stopped');
    this.log.info({ ms: Math.round(performance.now() - t0) }, 'node stopped');
    this.log.flush();
    clearInterval(this.keepAlive);
    this.markStopped();
  }

  /** Hands leadership over once the group's side effects have stopped. */
  private async release(): Promise<void> {
    if (!this.leadership) return;
    this.leadership = undefined;
    await this.parts.coordination.release();
  }

  private move(to: NodeState): void {
    if (this.state === to) return;
    if (!canMove(this.state, to)) this.log.warn({ from: this.state, to }, 'unexpected node state transition');
    this.log.info({ from: this.state, to }, 'node state');
    this.state = to;
    for (const l of this.stateListeners) l(to);
  }
}

/** Every enabled mware instance of the file, its group and its site (what the system state asks). */
function monitoredNodes(t: Topology): NodeEntry[] {
  const siteOf = new Map(t.servers.map((s) => [s.name, s.site]));
  return mwareRoles(t).map((r) => ({ name: r.name, group: r.group, site: siteOf.get(r.server) ?? '' }));
}
