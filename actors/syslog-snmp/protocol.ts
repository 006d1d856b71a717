/** Messages and counters of the syslog → SNMP trap service, the actor at `/services/syslog-snmp`. */

export interface ManagerCounters {
  /** `host:port (v2c|v3)` — never the community or a key. */
  manager: string;
  sent: number;
  errors: number;
  last_error: string | null;
}

export interface SyslogSnmpStatus {
  /** Where it listens (`udp://addr:port`, `tcp://addr:port`). */
  listening: string[];
  /** Syslog messages that parsed (UDP datagrams and TCP frames). */
  received: number;
  /** Of those, the ones a rule matched. */
  matched: number;
  /** Matched messages dropped by the rate limit (no trap sent). */
  dropped_rate_limit: number;
  /** Datagrams and frames that were not syslog, and TCP streams cut off for bad framing. */
  garbage: number;
  /** mware alarms trapped (not rate-limited). */
  alarms: number;
  /** Traps handed to the network, summed over managers. */
  sent: number;
  managers: ManagerCounters[];
}

export type SyslogSnmpProtocol = {
  status: { request: null; reply: SyslogSnmpStatus; scope: 'read' };
};
