import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { BackupStatus } from '../../actors/backup/protocol.ts';
import { BACKUP_EVENT_TOPIC } from '../../actors/backup/protocol.ts';
import type { EventStream } from '../supervision/events.ts';

/**
 * The backup controller's metrics, read from its notices on the event stream (so the metrics need nothing of the
 * actor): whether the last run succeeded, when the last good one ended (for a backup-age alert), its size and
 * duration, and runs by result. 0 until a run has ended on this node since it started. The age of the last good
 * backup is asked of `/backup` when scraped (its saved state survives restarts and takeovers, the notices do not);
 * absent where `/backup` does not run or has never succeeded.
 */
export function registerBackupMetrics(
  r: Registry,
  events: EventStream,
  /** `/backup`'s status as it answers now, or undefined when it does not run here or answer. */
  statusOf: () => Promise<BackupStatus | undefined>,
  /** The node's group, the label of the age (the controller is the group's: a series per group, absent elsewhere). */
  group: string,
  wallNow: () => number = Date.now,
): void {
  new Gauge({
    name: 'mware_backup_age_seconds',
    help: 'Since the end of the last good backup run (absent: none yet, or no backup controller on this node)',
    labelNames: ['group'],
    registers: [r],
    async collect() {
      const s = await statusOf().catch(() => undefined);
      this.reset();
      if (s?.last_success_at != null)
        this.set({ group }, Math.max(0, (wallNow() - s.last_success_at) / 1000));
    },
  });
  const runs = new Counter({
    name: 'mware_backup_runs_total',
    help: 'Backup runs ended on this node, by result (ok, failed)',
    labelNames: ['result'],
    registers: [r],
  });
  const lastOk = new Gauge({
    name: 'mware_backup_last_run_ok',
    help: '1 when the last backup run succeeded, 0 when it failed',
    registers: [r],
  });
  const lastSuccess = new Gauge({
    name: 'mware_backup_last_success_timestamp_seconds',
    help: 'Wall-clock end of the last good backup run (Unix seconds)',
    registers: [r],
  });
  const lastBytes = new Gauge({
    name: 'mware_backup_last_run_bytes',
    help: 'Bytes sent to the storage by the last good backup run',
    registers: [r],
  });
  const lastSeconds = new Gauge({
    name: 'mware_backup_last_run_seconds',
    help: 'Duration of the last backup run',
    registers: [r],
  });
  events.subscribe((e) => {
    if (e.type !== 'notice' || e.topic !== BACKUP_EVENT_TOPIC) return;
    if (e.event !== 'run-ended' && e.event !== 'run-failed') return;
    const ok = e.event === 'run-ended';
    runs.inc({ result: ok ? 'ok' : 'failed' });
    lastOk.set(ok ? 1 : 0);
    if (typeof e.data?.ms === 'number') lastSeconds.set(e.data.ms / 1000);
    if (!ok) return;
    lastSuccess.set(e.at / 1000);
    if (typeof e.data?.bytes === 'number') lastBytes.set(e.data.bytes);
  });
}
