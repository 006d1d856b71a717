import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { FarmStatus, FsHostStatus, MigrationSummary } from '../../actors/freeswitch/protocol.ts';

/**
 * The FreeSWITCH farm's metrics (03-interfaces.md "Metrics": channels per host, migrations and their duration;
 * issue 9: and their outcomes). Everything is read from the migrator's `status` when scraped (one ask per scrape,
 * shared by every series): the hosts' gauges as it sees them now, and each finished migration counted once, on the
 * node whose leadership term finished it — a summary carries the epoch of its last phase, so a node that took the
 * group over neither counts its predecessor's migrations again nor misses one that ended before its first scrape.
 * Where the farm does not run (a passive node, a role without one) there is no series but the zeroes.
 */

const KINDS: readonly MigrationSummary['kind'][] = ['failover', 'drain', 'migrate'];
const ENDS = ['done', 'failed'] as const;
const OUTCOMES = ['moved', 'lost', 'failed'] as const;
/** Remembered ids of counted migrations (the migrator keeps fewer than this). */
const SEEN_KEPT = 1_000;

export function registerFsMetrics(
  r: Registry,
  /** The migrator's status as it answers now, or undefined when it does not run here or answer. */
  statusOf: () => Promise<FarmStatus | undefined>,
): void {
  let round: { at: number; status: Promise<FarmStatus | undefined> } | undefined;
  const seen = new Set<string>();
  // Each series is read concurrently: the counters wait for the scrape's one status, which counts what is new.
  const upToDate = async (): Promise<void> => void (await status());

  const migrations = new Counter({
    name: 'mware_fs_migrations_total',
    help: 'FreeSWITCH migrations finished under this node’s leadership, by kind (failover, drain, migrate) and end phase (done, failed)',
    labelNames: ['kind', 'phase'],
    registers: [r],
    collect: upToDate,
  });
  const calls = new Counter({
    name: 'mware_fs_migrated_calls_total',
    help: 'Calls of finished FreeSWITCH migrations by outcome: moved (re-created, re-bridged, through the re-INVITE window), lost, failed',
    labelNames: ['outcome'],
    registers: [r],
    collect: upToDate,
  });
  const recreate = new Histogram({
    name: 'mware_fs_migration_recreate_seconds',
    help: 'FreeSWITCH migrations by kind: from the decision to every call re-created on its target or given up (the re-INVITE window excluded)',
    labelNames: ['kind'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [r],
    collect: upToDate,
  });
  let zeroes = false;

  /** Counts the migrations of this leadership term not counted yet. */
  const count = (s: FarmStatus): void => {
    if (!zeroes) {
      zeroes = true;
      for (const kind of KINDS) for (const phase of ENDS) migrations.inc({ kind, phase }, 0);
      for (const outcome of OUTCOMES) calls.inc({ outcome }, 0);
    }
    if (s.epoch === null) return;
    for (const m of s.recent) {
      if (m.epoch !== s.epoch || seen.has(m.id)) continue;
      seen.add(m.id);
      if (seen.size > SEEN_KEPT) seen.delete(seen.values().next().value as string);
      migrations.inc({ kind: m.kind, phase: m.phase });
      for (const outcome of OUTCOMES) calls.inc({ outcome }, m[outcome]);
      if (m.recreate_ms !== null) recreate.observe({ kind: m.kind }, m.recreate_ms / 1000);
    }
  };

  const status = (): Promise<FarmStatus | undefined> => {
    const now = performance.now();
    if (round && now - round.at < 250) return round.status;
    const p = statusOf()
      .catch(() => undefined)
      .then((s) => {
        if (s) count(s);
        return s;
      });
    round = { at: now, status: p };
    return p;
  };

  const perHost = (name: string, help: string, value: (h: FsHostStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['host'],
      registers: [r],
      async collect() {
        const s = await status();
        this.reset();
        for (const h of s?.hosts ?? []) this.set({ host: h.name }, value(h));
      },
    });
  perHost('mware_fs_host_up', '1 while the host’s ESL session is up and its core ready, 0 otherwise', (h) =>
    h.state === 'up' ? 1 : 0,
  );
  perHost('mware_fs_channels', 'Live channels of the host, as its actor tracks them', (h) => h.channels);
  perHost(
    'mware_fs_sessions',
    'Sessions the host reported in its last status or HEARTBEAT',
    (h) => h.sessions,
  );
  perHost('mware_fs_paused', '1 while the host refuses new calls (fsctl pause)', (h) => (h.paused ? 1 : 0));
}
