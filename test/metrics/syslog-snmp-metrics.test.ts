import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import type { SyslogSnmpStatus } from '../../actors/syslog-snmp/protocol.ts';
import { registerSyslogSnmpMetrics } from '../../src/metrics/syslog-snmp-metrics.ts';

const STATUS: SyslogSnmpStatus = {
  listening: ['udp://127.0.0.1:5514'],
  received: 12,
  matched: 9,
  dropped_rate_limit: 4,
  garbage: 2,
  alarms: 1,
  sent: 11,
  managers: [
    { manager: '127.0.0.50:162 (v2c)', sent: 6, errors: 0, last_error: null },
    { manager: '127.0.0.51:162 (v3)', sent: 5, errors: 1, last_error: 'timeout' },
  ],
};

it('shows the service’s counters and each manager’s traps, read from its status once per scrape', async () => {
  const r = new Registry();
  let asks = 0;
  registerSyslogSnmpMetrics(r, async () => {
    asks++;
    return STATUS;
  });
  const text = await r.metrics();
  assert.match(text, /^mware_syslog_snmp_messages\{what="received"\} 12$/m);
  assert.match(text, /^mware_syslog_snmp_messages\{what="matched"\} 9$/m);
  assert.match(text, /^mware_syslog_snmp_messages\{what="dropped_rate_limit"\} 4$/m);
  assert.match(text, /^mware_syslog_snmp_messages\{what="garbage"\} 2$/m);
  assert.match(text, /^mware_syslog_snmp_messages\{what="alarms"\} 1$/m);
  assert.match(text, /^mware_syslog_snmp_traps\{manager="127\.0\.0\.51:162 \(v3\)",result="errors"\} 1$/m);
  assert.match(text, /^mware_syslog_snmp_traps\{manager="127\.0\.0\.50:162 \(v2c\)",result="sent"\} 6$/m);
  assert.equal(asks, 1);
});

it('has no series where the service does not run', async () => {
  const r = new Registry();
  registerSyslogSnmpMetrics(r, async () => undefined);
  assert.doesNotMatch(await r.metrics(), /^mware_syslog_snmp_\w+\{/m);
});
