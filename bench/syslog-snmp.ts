import { connect } from 'node:net';
import type { SyslogSnmpStatus } from '../actors/syslog-snmp/protocol.ts';
import { defaultEngineId } from '../actors/syslog-snmp/oids.ts';
import { syslogSnmpActor } from '../actors/syslog-snmp/syslog-snmp-actor.ts';
import { createLogger } from '../src/log/log.ts';
import { systemClock } from '../src/supervision/clock.ts';
import { EventStream } from '../src/supervision/events.ts';
import { SyslogSnmp } from '../topology/schema.ts';
import { freePort, startSnmpTrapd } from '../test/harness/index.ts';
import { fmt, median, report } from './stats.ts';

/**
 * Syslog → SNMP trap throughput against a real snmptrapd (v2c): N messages written on one TCP connection
 * (newline framing, so the input side loses nothing), timed until every one is matched and until every trap is sent;
 * what snmptrapd logged of the burst is reported beside it. Baseline in the same run: the same messages with no rule matching (parse and count only).
 * Median of 3 trials.
 */

const N = 5_000;
const TRIALS = 3;

const trapd = await startSnmpTrapd({
  community: 'public',
  v3: { engineId: defaultEngineId('bench'), user: 'bench', authKey: 'auth-pass-1', privKey: 'priv-pass-1' },
});

async function trial(
  matching: boolean,
): Promise<{ matchedPerS: number; trapsPerS: number; delivered: number }> {
  const tcp = await freePort();
  const config = SyslogSnmp.parse({
    listen: { tcp_port: tcp },
    rules: [{ name: 'all', severity_max: matching ? 'debug' : 'emerg' }],
    managers: [{ host: '127.0.0.1', port: trapd.port, version: 'v2c', community: 'public' }],
    rate_limit: { per_second: 100_000, burst: 100_000 },
  });
  const actor = await syslogSnmpActor.create(
    { config, address: '127.0.0.1', engineName: 'bench', events: new EventStream() },
    {
      path: '/services/syslog-snmp',
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
      state: { restored: undefined, durable: false, save: async () => {}, clear: async () => {} },
      fail: () => {},
      stop: () => {},
    },
  );
  const status = () => actor.handlers.status.call(actor, null) as SyslogSnmpStatus;
  const before = trapd.traps().length;
  const lines = Array.from(
    { length: N },
    (_, i) => `<11>Jan  5 10:00:00 web1 app[1]: bench message ${i}\n`,
  ).join('');
  const t0 = performance.now();
  const c = connect(tcp, '127.0.0.1', () => c.end(lines));
  while (status().received < N) await new Promise((r) => setTimeout(r, 5));
  const tMatched = performance.now() - t0;
  let tTraps = tMatched;
  let delivered = 0;
  if (matching) {
    while (status().sent < N) await new Promise((r) => setTimeout(r, 5));
    tTraps = performance.now() - t0;
    // UDP to a single-threaded snmptrapd loses traps in a burst: count what it logged once it has gone quiet.
    for (let last = -1; last !== trapd.traps().length;) {
      last = trapd.traps().length;
      await new Promise((r) => setTimeout(r, 500));
    }
    delivered = trapd.traps().length - before;
  }
  await actor.stop?.();
  return { matchedPerS: (N / tMatched) * 1000, trapsPerS: (N / tTraps) * 1000, delivered };
}

try {
  const base: number[] = [];
  const matched: number[] = [];
  const traps: number[] = [];
  const delivered: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    base.push((await trial(false)).matchedPerS);
    const r = await trial(true);
    matched.push(r.matchedPerS);
    traps.push(r.trapsPerS);
    delivered.push(r.delivered);
  }
  const m = median(matched);
  report('syslog-snmp baseline (parsed, no rule matches)', `${fmt(median(base))} msgs/s`);
  report(
    'syslog-snmp matched and trapped (v2c)',
    `${fmt(m)} msgs/s (${fmt(m / median(base), 2)} × baseline)`,
  );
  report('syslog-snmp traps sent (handed to UDP)', `${fmt(median(traps))} traps/s`);
  report('syslog-snmp traps logged by snmptrapd', `${fmt(median(delivered))} of ${N} (a burst over UDP)`);
} finally {
  await trapd.stop();
}
