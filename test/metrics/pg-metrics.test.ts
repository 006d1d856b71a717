import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import type { BackupStatus } from '../../actors/backup/protocol.ts';
import type { PgClusterStatus } from '../../actors/pg/protocol.ts';
import { registerBackupMetrics } from '../../src/metrics/backup-metrics.ts';
import { registerPgMetrics } from '../../src/metrics/pg-metrics.ts';
import { EventStream } from '../../src/supervision/events.ts';
import { pgServer } from '../support/pg-status.ts';

const general: PgClusterStatus = {
  key: 'general',
  phase: 'watching',
  reason: null,
  primary: 'db1:5441',
  epoch: 3,
  referee: null,
  servers: [pgServer('db1:5441', 'primary'), pgServer('db2:5441', 'standby', 25_000)],
  history: [],
};

it('pg metrics: lag of each standby and the primary from the controllers, failovers from their notices', async () => {
  const r = new Registry();
  const events = new EventStream();
  const asked: string[] = [];
  registerPgMetrics(r, events, ['general', 'billing'], async (key) => {
    asked.push(key);
    if (key === 'billing') throw new Error('not running here');
    return general;
  });
  events.emit({
    type: 'notice',
    topic: 'pg',
    event: 'primary-changed',
    path: '/pg/general/controller',
    level: 'warn',
    message: '',
    at: 1,
    data: { key: 'general', from: 'db2:5441', to: 'db1:5441', kind: 'host-lost' },
  });
  const text = await r.metrics();
  assert.match(text, /mware_pg_replication_lag_bytes\{cluster="general",server="db2:5441"\} 25000/);
  assert.match(text, /mware_pg_replication_lag_seconds\{cluster="general",server="db2:5441"\} 0.25/);
  // The primary has no lag series; a controller that does not answer (billing) has no series at all.
  assert.doesNotMatch(text, /lag_bytes\{cluster="general",server="db1:5441"\}/);
  assert.doesNotMatch(text, /mware_pg_(replication_lag_bytes|primary)\{cluster="billing"/);
  assert.match(text, /mware_pg_primary\{cluster="general",server="db1:5441"\} 1/);
  assert.match(text, /mware_pg_primary\{cluster="general",server="db2:5441"\} 0/);
  assert.match(text, /mware_pg_failovers_total\{cluster="general",kind="host-lost"\} 1/);
  assert.match(text, /mware_pg_failovers_total\{cluster="general",kind="switchover"\} 0/);
  assert.match(text, /mware_pg_failovers_total\{cluster="billing",kind="postmaster-dead"\} 0/);
  // One status per cluster per scrape, shared by the three gauges.
  assert.deepEqual(asked.sort(), ['billing', 'general']);
});

it('backup age: since the last good run, as /backup answers when scraped', async () => {
  const r = new Registry();
  const status = { last_success_at: 1_000_000 } as BackupStatus;
  let answer: BackupStatus | undefined = status;
  registerBackupMetrics(
    r,
    new EventStream(),
    async () => answer,
    '7',
    () => 1_090_000,
  );
  assert.match(await r.metrics(), /^mware_backup_age_seconds\{group="7"\} 90$/m);
  answer = undefined;
  assert.doesNotMatch(await r.metrics(), /^mware_backup_age_seconds\{/m);
});
