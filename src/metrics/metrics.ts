import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MutexStats } from '../../actors/mutex/stats.ts';
import type { CoordinationBackend } from '../coordination/backend.ts';
import type { Directory } from '../supervision/directory.ts';
import type { EventStream } from '../supervision/events.ts';
import type { ActorStats } from '../supervision/stats.ts';
import { registerBackupMetrics } from './backup-metrics.ts';
import { registerPgMetrics } from './pg-metrics.ts';
import { registerFsMetrics } from './fs-metrics.ts';
import { registerAcmeMetrics } from './acme-metrics.ts';
import { registerSyslogSnmpMetrics } from './syslog-snmp-metrics.ts';
import { registerMonitorMetrics } from './monitor-metrics.ts';
import { registerCtiMetrics } from './cti-metrics.ts';
import { askIfRunning } from './ask-running.ts';

const SCRAPE_ASK_MS = 1_000;

/**
 * The node's Prometheus metrics (03-interfaces.md "Metrics"): labelled by actor *kind*, never by id, by group, and
 * by API route template. The hot path only bumps plain counters (supervisors/stats.ts); this reads them when
 * scraped.
 */

export interface MetricsSources {
  node: string;
  group: number;
  stats: ActorStats;
  directory: Directory;
  events: EventStream;
  mutex: MutexStats;
  /** The group's coordination: its health, who leads and with which epoch, and its changes. */
  coordination: Pick<CoordinationBackend, 'status' | 'onEvent'>;
  /** True while this node is its group's active instance. */
  active: () => boolean;
  /** The other members of the group: since when each was last heard from (null: never); empty on a single node. */
  peers: () => readonly { name: string; lastHeardMs: number | null }[];
  /** Members heard from recently, this node included. */
  liveMembers: () => number;
  /** Keys of the role's `pg_controller` clusters (their lag and primary are asked of them when scraped). */
  pgClusters?: readonly string[];
  /** Names of the role's monitors (each one's conditions are asked of it when scraped). */
  monitors?: readonly string[];
  /** Keys of the role's `cti_adapters` (each one's clients and counters are asked of it when scraped). */
  ctiAdapters?: readonly string[];
}

/** See {@link NodeMetrics.snapshot}; its schema is `NodeStats` in api/schemas.ts. */
export interface NodeStatsSnapshot {
  /** Wall-clock ms of the snapshot. */
  at: number;
  /** Messages delivered to actors since the node started. */
  messages: number;
  restarts: number;
  failures: number;
  /** Requests held or in flight, summed over every actor now. */
  mailbox: number;
  actors: number;
  /** New leaderships of the node's group seen since the node started. */
  leadership_changes: number;
  epoch: number | null;
  active: boolean;
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly apiRequests: Counter<'route' | 'method' | 'status'>;
  readonly apiDuration: Histogram<'route'>;
  /** Messages accepted with 202 (tell) whose delivery or handling then failed. */
  readonly toldFailures: Counter<'kind'>;
  /** Plain running totals behind {@link snapshot} (the counters above are prom-client's, read when scraped). */
  private readonly totals = { restarts: 0, failures: 0, leadershipChanges: 0 };
  private readonly src: MetricsSources;

  constructor(src: MetricsSources) {
    this.src = src;
    const r = this.registry;
    r.setDefaultLabels({ node: src.node });
    collectDefaultMetrics({ register: r, prefix: 'mware_' });
    const group = String(src.group);

    const reported = new Map<string, number>();
    const messages = new Counter({
      name: 'mware_actor_messages_total',
      help: 'Messages delivered to actors, by actor kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        for (const s of src.stats.all()) {
          const delta = s.messages - (reported.get(s.kind) ?? 0);
          if (delta > 0) this.inc({ kind: s.kind }, delta);
          reported.set(s.kind, s.messages);
        }
      },
    });
    void messages;

    new Histogram({
      name: 'mware_actor_message_seconds',
      help: 'Request-reply time of sampled actor messages (1 in 64), by actor kind',
      labelNames: ['kind'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5],
      registers: [r],
      collect() {
        for (const s of src.stats.all())
          for (const v of s.latencies.splice(0)) this.observe({ kind: s.kind }, v);
      },
    });

    const restarts = new Counter({
      name: 'mware_actor_restarts_total',
      help: 'Actor restarts, by actor kind',
      labelNames: ['kind', 'manual'],
      registers: [r],
    });
    const failures = new Counter({
      name: 'mware_actor_failures_total',
      help: 'Actor failures, by actor kind',
      labelNames: ['kind'],
      registers: [r],
    });
    const escalations = new Counter({
      name: 'mware_supervisor_escalations_total',
      help: 'Supervisors that gave up (restart intensity exceeded)',
      registers: [r],
    });
    const kindOf = (path: string) => src.directory.get(path)?.spec.kind ?? 'unknown';
    src.events.subscribe((e) => {
      if (e.type === 'restarted') this.totals.restarts++;
      else if (e.type === 'failed') this.totals.failures++;
      if (e.type === 'restarted') restarts.inc({ kind: kindOf(e.path), manual: String(e.manual) });
      else if (e.type === 'failed') failures.inc({ kind: kindOf(e.path) });
      else if (e.type === 'escalated') escalations.inc();
    });

    new Gauge({
      name: 'mware_actor_mailbox',
      help: 'Requests held or in flight, summed by actor kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        this.reset();
        for (const rec of src.directory.all())
          this.inc({ kind: rec.spec.kind }, (rec.incarnation?.mailbox() ?? 0) + rec.held);
      },
    });

    new Gauge({
      name: 'mware_actors',
      help: 'Actors by kind and state',
      labelNames: ['kind', 'state'],
      registers: [r],
      collect() {
        this.reset();
        for (const rec of src.directory.all()) this.inc({ kind: rec.spec.kind, state: rec.state });
      },
    });

    /** Supervisors with a bound on their children (the dynamic ones: mutexes), by kind. */
    const bounded = () =>
      [...src.directory.all()].flatMap((rec) => {
        const c = rec.incarnation?.capacity?.();
        return c && Number.isFinite(c.max) ? [{ kind: rec.spec.kind, ...c }] : [];
      });
    new Gauge({
      name: 'mware_supervisor_children',
      help: 'Children of a bounded (dynamic) supervisor, by supervisor kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        this.reset();
        for (const b of bounded()) this.inc({ kind: b.kind }, b.children);
      },
    });
    new Gauge({
      name: 'mware_supervisor_max_children',
      help: 'The bound on the children of a dynamic supervisor, by supervisor kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        this.reset();
        for (const b of bounded()) this.set({ kind: b.kind }, b.max);
      },
    });
    const refusedSeen = new Map<string, number>();
    new Counter({
      name: 'mware_supervisor_full_refusals_total',
      help: 'Child starts refused because a dynamic supervisor was at its bound (answered 503), by supervisor kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        for (const b of bounded()) {
          // A restarted supervisor counts from zero again: only growth since the last look is added.
          const last = refusedSeen.get(b.kind) ?? 0;
          if (b.refused > last) this.inc({ kind: b.kind }, b.refused - last);
          refusedSeen.set(b.kind, b.refused);
        }
      },
    });

    // The group's coordination (02-runtime.md "Cluster coordination"), as this node sees it.
    new Gauge({
      name: 'mware_coordination_healthy',
      help: '1 while the group’s coordination (Redis) answers this node, 0 otherwise',
      labelNames: ['group'],
      registers: [r],
      collect() {
        this.set({ group }, src.coordination.status().healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mware_coordination_leader',
      help: '1 while this node is its group’s active instance',
      labelNames: ['group'],
      registers: [r],
      collect() {
        this.set({ group }, src.active() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mware_coordination_epoch',
      help: 'Fencing epoch of the group’s current leadership as this node knows it (0: none known)',
      labelNames: ['group'],
      registers: [r],
      collect() {
        this.set({ group }, src.coordination.status().leadership?.epoch ?? 0);
      },
    });
    const changes = new Counter({
      name: 'mware_coordination_leadership_changes_total',
      help: 'New leaderships of the group (a new epoch taken) seen by this node since it started',
      labelNames: ['group'],
      registers: [r],
    });
    changes.inc({ group }, 0);
    src.coordination.onEvent((e) => {
      if (e.type === 'leadership' && e.takeover) {
        changes.inc({ group });
        this.totals.leadershipChanges++;
      }
    });
    new Gauge({
      name: 'mware_cluster_members_live',
      help: 'Members of the group heard from recently (node-channel heartbeats), this node included',
      labelNames: ['group'],
      registers: [r],
      collect() {
        this.set({ group }, src.liveMembers());
      },
    });
    new Gauge({
      name: 'mware_cluster_member_heartbeat_age_seconds',
      help: 'Since the last heartbeat of each other member of the group (absent: never heard from)',
      labelNames: ['group', 'member'],
      registers: [r],
      collect() {
        this.reset();
        for (const p of src.peers())
          if (p.lastHeardMs !== null) this.set({ group, member: p.name }, p.lastHeardMs / 1000);
      },
    });

    const mutexCounter = (name: string, help: string, read: () => number) => {
      let last = 0;
      return new Counter({
        name,
        help,
        registers: [r],
        collect() {
          const now = read();
          if (now > last) this.inc(now - last);
          last = now;
        },
      });
    };
    mutexCounter('mware_mutex_grants_total', 'Mutex locks granted at once', () => src.mutex.grantedAtOnce);
    mutexCounter(
      'mware_mutex_grants_after_wait_total',
      'Mutex locks granted after waiting',
      () => src.mutex.grantedAfterWait,
    );
    mutexCounter('mware_mutex_waits_total', 'Mutex lock requests that had to wait', () => src.mutex.queued);
    mutexCounter('mware_mutex_timeouts_total', 'Mutex waits that timed out', () => src.mutex.timeouts);

    // Controllers answer a scrape from memory: one that is slow is busy or stuck, and /metrics must not wait on it.
    registerBackupMetrics(
      r,
      src.events,
      () => askIfRunning(src.directory, '/backup', 'status', SCRAPE_ASK_MS),
      group,
    );
    registerPgMetrics(r, src.events, src.pgClusters ?? [], (key) =>
      askIfRunning(src.directory, `/pg/${key}/controller`, 'status', SCRAPE_ASK_MS),
    );
    registerFsMetrics(r, () => askIfRunning(src.directory, '/freeswitch/migrator', 'status', SCRAPE_ASK_MS));
    registerSyslogSnmpMetrics(r, () =>
      askIfRunning(src.directory, '/services/syslog-snmp', 'status', SCRAPE_ASK_MS),
    );
    registerMonitorMetrics(r, src.monitors ?? [], (name) =>
      askIfRunning(src.directory, `/services/monitors/${name}`, 'status', SCRAPE_ASK_MS),
    );
    registerAcmeMetrics(r, () => askIfRunning(src.directory, '/services/acme', 'status', SCRAPE_ASK_MS));
    registerCtiMetrics(r, src.ctiAdapters ?? [], (key) =>
      askIfRunning(src.directory, `/services/cti/${key}`, 'status', SCRAPE_ASK_MS),
    );

    this.apiRequests = new Counter({
      name: 'mware_api_requests_total',
      help: 'API requests by route template, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [r],
    });
    this.toldFailures = new Counter({
      name: 'mware_api_told_failures_total',
      help: 'Messages accepted by the API as a tell (202) that then failed, by actor kind',
      labelNames: ['kind'],
      registers: [r],
    });
    this.apiDuration = new Histogram({
      name: 'mware_api_request_seconds',
      help: 'API request time by route template',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10],
      registers: [r],
    });
  }

  /**
   * The node's running totals as plain numbers (for the web view's charts: `GET /api/v1/stats` and the cluster tree):
   * a reader takes rates from two snapshots.
   */
  snapshot(now: number = Date.now()): NodeStatsSnapshot {
    let messages = 0;
    for (const s of this.src.stats.all()) messages += s.messages;
    let mailbox = 0;
    let actors = 0;
    for (const rec of this.src.directory.all()) {
      mailbox += (rec.incarnation?.mailbox() ?? 0) + rec.held;
      actors++;
    }
    return {
      at: now,
      messages,
      restarts: this.totals.restarts,
      failures: this.totals.failures,
      mailbox,
      actors,
      leadership_changes: this.totals.leadershipChanges,
      epoch: this.src.coordination.status().leadership?.epoch ?? null,
      active: this.src.active(),
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
