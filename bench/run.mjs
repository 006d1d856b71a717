#!/usr/bin/env node
// Runs every benchmark in turn; each prints one line per figure with its target beside it.
// Usage: node bench/run.mjs [name …]   (names: messaging restart mutex memory startup api cluster; soak, the
// 10-minute no-false-failover soak; backup, a few minutes on a 1 GB database; backup-sync, the :SYNC folder by
// rsync and by zip (under a minute); pg-failover, PostgreSQL failover
// beside Patroni (about 6 minutes; subjects from PG_FAILOVER_SUBJECTS); fs-migration, FreeSWITCH call recovery at
// 100 and 1,000 calls (a few minutes); syslog-snmp, syslog → trap throughput against a real snmptrapd: these run
// only when named; system-state, the system state's latency and a Telegram broadcast to 200 chats; cti, call
// events fanned out to 100 WebSocket clients, throughput and delivery latency; tasks, the service-task scheduler
// with 10,000 tasks, in memory and in Redis: all opt-in)
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

const ALL = {
  messaging: ['bench/messaging.ts'],
  restart: ['bench/restart.ts'],
  mutex: ['bench/mutex.ts'],
  memory: ['--expose-gc', 'bench/memory.ts'],
  startup: ['bench/startup.ts'],
  api: ['bench/api.ts'],
  cluster: ['bench/cluster.ts'],
  soak: ['bench/soak.ts'],
  backup: ['bench/backup.ts'],
  'backup-sync': ['bench/backup-sync.ts'],
  'pg-failover': ['bench/pg-failover/run.ts'],
  'fs-migration': ['bench/fs-migration/run.ts'],
  'syslog-snmp': ['bench/syslog-snmp.ts'],
  'system-state': ['bench/system-state.ts'],
  cti: ['bench/cti.ts'],
  tasks: ['bench/tasks.ts'],
};
const OPT_IN = new Set([
  'soak',
  'backup',
  'backup-sync',
  'pg-failover',
  'fs-migration',
  'syslog-snmp',
  'system-state',
  'cti',
  'tasks',
]);
const chosen = process.argv.slice(2).length
  ? process.argv.slice(2)
  : Object.keys(ALL).filter((n) => !OPT_IN.has(n));
console.log(
  `# mware benchmarks — ${new Date().toISOString()} — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
);
let failed = false;
for (const name of chosen) {
  const args = ALL[name];
  if (!args) {
    console.error(`unknown benchmark ${name} (known: ${Object.keys(ALL).join(', ')})`);
    process.exit(2);
  }
  console.log(`\n## ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
