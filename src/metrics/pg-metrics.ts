import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { PgChangeKind, PgClusterStatus } from '../../actors/pg/protocol.ts';
import { PG_EVENT_TOPIC } from '../../actors/pg/protocol.ts';
import type { EventStream } from '../supervision/events.ts';

/**
 * The PostgreSQL replication controller's metrics (03-interfaces.md "Metrics": pg replication lag, failovers).
 * Lag and the primary are read from each cluster's decision actor when scraped (one `status` per cluster per
 * scrape, shared by the gauges); a controller that does not run here (a passive node) or does not answer leaves its
 * series out. Failovers are counted from the controller's `primary-changed` notices, so on the node that decided
 * them, since it started.
 */

const KINDS: readonly PgChangeKind[] = ['postmaster-dead', 'host-lost', 'switchover', 'startup-repair'];
export function registerPgMetrics(
  r: Registry,
  events: EventStream,
  keys: readonly string[],
  /** A cluster's status as its controller answers it now, or undefined when it does not run here or answer. */
  statusOf: (key: string) => Promise<PgClusterStatus | undefined>,
): void {
  if (keys.length === 0) return;
  // The three gauges of one scrape share one round of asks.
  let round: { at: number; statuses: Promise<PgClusterStatus[]> } | undefined;
  const statuses = (): Promise<PgClusterStatus[]> => {
    const now = performance.now();
    if (round && now - round.at < 250) return round.statuses;
    const asks = keys.map((k) => statusOf(k).catch(() => undefined));
    round = {
      at: now,
      statuses: Promise.all(asks).then((all) => all.filter((s): s is PgClusterStatus => s !== undefined)),
    };
    return round.statuses;
  };

  const perServer = (
    name: string,
    help: string,
    value: (s: PgClusterStatus['servers'][number], primary: string | null) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['cluster', 'server'],
      registers: [r],
      async collect() {
        const all = await statuses();
        this.reset();
        for (const c of all)
          for (const s of c.servers) {
            const v = value(s, c.primary);
            if (v !== null) this.set({ cluster: c.key, server: s.name }, v);
          }
      },
    });
  perServer(
    'mware_pg_replication_lag_bytes',
    'Replay lag of each standby behind its primary, in bytes',
    (s) => (s.role === 'standby' ? s.lag_bytes : null),
  );
  perServer(
    'mware_pg_replication_lag_seconds',
    'Replay lag of each standby behind its primary, in seconds',
    (s) => (s.role === 'standby' ? s.lag_seconds : null),
  );
  perServer(
    'mware_pg_primary',
    '1 for the server the controller holds as the cluster’s primary, 0 for the others',
    (s, primary) => (s.name === primary ? 1 : 0),
  );

  const failovers = new Counter({
    name: 'mware_pg_failovers_total',
    help: 'Changes of primary decided on this node, by cluster and kind (postmaster-dead, host-lost, switchover, startup-repair)',
    labelNames: ['cluster', 'kind'],
    registers: [r],
  });
  for (const cluster of keys) for (const kind of KINDS) failovers.inc({ cluster, kind }, 0);
  events.subscribe((e) => {
    if (e.type !== 'notice' || e.topic !== PG_EVENT_TOPIC || e.event !== 'primary-changed') return;
    const cluster = e.data?.key;
    const kind = e.data?.kind;
    if (typeof cluster === 'string' && typeof kind === 'string') failovers.inc({ cluster, kind });
  });
}
