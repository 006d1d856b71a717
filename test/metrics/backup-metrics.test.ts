import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import { registerBackupMetrics } from '../../src/metrics/backup-metrics.ts';
import { EventStream } from '../../src/supervision/events.ts';

it('backup metrics follow the controller’s run-ended and run-failed notices', async () => {
  const r = new Registry();
  const events = new EventStream();
  registerBackupMetrics(r, events, async () => undefined, '7');
  const notice = { type: 'notice', topic: 'backup', path: '/backup', level: 'info', message: '' } as const;
  events.emit({ ...notice, event: 'run-ended', at: 1_000_000, data: { ok: true, bytes: 4096, ms: 2500 } });
  events.emit({
    ...notice,
    event: 'run-failed',
    at: 2_000_000,
    level: 'error',
    data: { ok: false, bytes: 0, ms: 10 },
  });
  const text = await r.metrics();
  assert.match(text, /mware_backup_runs_total\{result="ok"\} 1/);
  assert.match(text, /mware_backup_runs_total\{result="failed"\} 1/);
  assert.match(text, /mware_backup_last_run_ok 0/);
  assert.match(text, /mware_backup_last_success_timestamp_seconds 1000\n/);
  assert.match(text, /mware_backup_last_run_bytes 4096/);
  assert.match(text, /mware_backup_last_run_seconds 0.01/);
  // No /backup actor here: the age is left out, and the scrape still answers.
  assert.match(text, /# TYPE mware_backup_age_seconds gauge/);
  assert.doesNotMatch(text, /^mware_backup_age_seconds\{/m);
});
