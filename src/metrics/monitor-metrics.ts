import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { MonitorStatus } from '../../actors/monitors/protocol.ts';

/**
 * The monitors' metrics, read from each `/services/monitors/<name>`'s `status` when scraped (one ask per monitor and
 * scrape): the conditions its last round saw (raised, failing but not yet confirmed, well) and, for an sg monitor,
 * the registrations it deleted since it started. No series for a monitor that does not run here (a passive node).
 */
export function registerMonitorMetrics(
  r: Registry,
  monitors: readonly string[],
  /** A monitor's status as it answers now, or undefined when it does not run here or answer. */
  statusOf: (name: string) => Promise<MonitorStatus | undefined>,
): void {
  if (monitors.length === 0) return;
  let round: { at: number; statuses: Promise<(MonitorStatus | undefined)[]> } | undefined;
  // Every series of one scrape shares one ask per monitor.
  const statuses = (): Promise<(MonitorStatus | undefined)[]> => {
    const now = performance.now();
    if (!round || now - round.at > 500)
      round = { at: now, statuses: Promise.all(monitors.map((m) => statusOf(m).catch(() => undefined))) };
    return round.statuses;
  };
  new Gauge({
    name: 'mware_monitor_conditions',
    help: "Conditions a monitor's last round saw, by state: raised (a deviation), failing (not yet confirmed), ok",
    labelNames: ['monitor', 'kind', 'state'],
    registers: [r],
    async collect() {
      const all = await statuses();
      this.reset();
      for (const s of all) {
        if (!s) continue;
        const count = { raised: 0, failing: 0, ok: 0 };
        for (const c of s.conditions) count[c.raised ? 'raised' : c.failing ? 'failing' : 'ok']++;
        for (const [state, n] of Object.entries(count)) this.set({ monitor: s.name, kind: s.kind, state }, n);
      }
    },
  });
  new Gauge({
    name: 'mware_monitor_registrations_deleted',
    help: "Registrations an sg monitor deleted from the registrar's location table since it started (lost gateways)",
    labelNames: ['monitor'],
    registers: [r],
    async collect() {
      const all = await statuses();
      this.reset();
      for (const s of all) {
        const n = s?.detail.deleted_total;
        if (s && typeof n === 'number') this.set({ monitor: s.name }, n);
      }
    },
  });
}
