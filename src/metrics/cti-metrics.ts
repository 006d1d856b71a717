import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { CtiAdapterStatus } from '../../actors/cti/protocol.ts';

/**
 * The CTI adapters' metrics, read from each `/services/cti/<key>`'s `status` when scraped (one ask per adapter per
 * scrape). Counters start again with the adapter server (a restart, a takeover): gauges "since the server started".
 * No series for an adapter that does not run here.
 */
export function registerCtiMetrics(
  r: Registry,
  /** The role's adapter keys. */
  keys: readonly string[],
  /** An adapter's status as it answers now, or undefined when it does not run here or answer. */
  statusOf: (key: string) => Promise<CtiAdapterStatus | undefined>,
): void {
  if (keys.length === 0) return;
  let round: { at: number; all: Promise<CtiAdapterStatus[]> } | undefined;
  const all = (): Promise<CtiAdapterStatus[]> => {
    const now = performance.now();
    if (!round || now - round.at > 500)
      round = {
        at: now,
        all: Promise.all(keys.map((k) => statusOf(k).catch(() => undefined))).then((s) =>
          s.filter((x): x is CtiAdapterStatus => x !== undefined),
        ),
      };
    return round.all;
  };
  const gauge = (name: string, help: string, value: (s: CtiAdapterStatus) => number): void =>
    void new Gauge({
      name,
      help,
      labelNames: ['adapter'],
      registers: [r],
      async collect() {
        const list = await all();
        this.reset();
        for (const s of list) this.set({ adapter: s.key }, value(s));
      },
    });
  gauge('mware_cti_clients', 'CTI clients connected, per adapter', (s) => s.clients);
  gauge(
    'mware_cti_events_sent',
    'Call events sent to CTI clients since the adapter server started',
    (s) => s.sent,
  );
  gauge(
    'mware_cti_gaps',
    'Gap notices sent (a client fell further behind than the buffer) since the server started',
    (s) => s.gaps,
  );
  gauge(
    'mware_cti_refused',
    'CTI connections refused (token, subscription, too many clients) since the server started',
    (s) => s.refused,
  );
  gauge('mware_cti_buffer_events', 'Call events held in the adapter’s resume buffer', (s) => s.buffer.held);
}
