import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { SyslogSnmpStatus } from '../../actors/syslog-snmp/protocol.ts';

/**
 * The syslog → SNMP trap service's metrics, read from `/services/syslog-snmp`'s `status` when scraped (one ask per
 * scrape). Its counters start again when the service does (a restart, a takeover), so they are gauges "since the
 * service started" rather than counters. No series where the service does not run.
 */
export function registerSyslogSnmpMetrics(
  r: Registry,
  /** The service's status as it answers now, or undefined when it does not run here or answer. */
  statusOf: () => Promise<SyslogSnmpStatus | undefined>,
): void {
  let round: { at: number; status: Promise<SyslogSnmpStatus | undefined> } | undefined;
  // Every series of one scrape shares one ask.
  const status = (): Promise<SyslogSnmpStatus | undefined> => {
    const now = performance.now();
    if (!round || now - round.at > 500) round = { at: now, status: statusOf().catch(() => undefined) };
    return round.status;
  };
  new Gauge({
    name: 'mware_syslog_snmp_messages',
    help: 'Syslog messages since the service started: received (parsed), matched by a rule, dropped by the rate limit, garbage',
    labelNames: ['what'],
    registers: [r],
    async collect() {
      const s = await status();
      this.reset();
      if (!s) return;
      this.set({ what: 'received' }, s.received);
      this.set({ what: 'matched' }, s.matched);
      this.set({ what: 'dropped_rate_limit' }, s.dropped_rate_limit);
      this.set({ what: 'garbage' }, s.garbage);
      this.set({ what: 'alarms' }, s.alarms);
    },
  });
  new Gauge({
    name: 'mware_syslog_snmp_traps',
    help: 'SNMP traps since the service started, per manager (host:port and version): sent, errors',
    labelNames: ['manager', 'result'],
    registers: [r],
    async collect() {
      const s = await status();
      this.reset();
      for (const m of s?.managers ?? []) {
        this.set({ manager: m.manager, result: 'sent' }, m.sent);
        this.set({ manager: m.manager, result: 'errors' }, m.errors);
      }
    },
  });
}
