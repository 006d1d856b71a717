/**
 * Messages and reports of the backup controller (04-postgres.md "backup_controller"), the actor at `/backup`.
 * The API, the shell and the web view read `status` and send `run-now`.
 */

export type BackupStepName = 'pick-server' | 'basebackup' | 'verify' | 'zip' | 'download' | 'upload' | 'sync';

export interface BackupStepReport {
  step: BackupStepName;
  /** The pgdb entry or the sync folder the step worked on. */
  target: string;
  ok: boolean;
  ms: number;
  bytes?: number;
  /** Where the result went (storage path), or what failed, in plain words (no secret). */
  detail?: string;
}

export interface BackupRunReport {
  /** Wall-clock start and end. */
  started_at: number;
  finished_at: number;
  ok: boolean;
  /** `window` (the schedule) or `run-now` (an operator). */
  trigger: 'window' | 'run-now';
  steps: BackupStepReport[];
  /** Total bytes sent to the storage. */
  bytes: number;
  /** The failing step's message when `ok` is false. */
  error: string | null;
}

export type BackupPhase = 'idle' | 'running' | 'waiting-retry' | 'disabled';

export interface BackupStatus {
  phase: BackupPhase;
  /** The schedule, as configured. */
  hours_interval: [number, number];
  weekdays: number[];
  /** Wall-clock time of the next attempt (the next window, or the retry after a failure). */
  next_at: number | null;
  last: BackupRunReport | null;
  /** Wall-clock end of the last good run (for the backup-age metric). */
  last_success_at: number | null;
  running_since: number | null;
}

export type BackupProtocol = {
  status: { request: null; reply: BackupStatus; scope: 'read' };
  /** Starts a run now (outside the window too); answers when it has ended. */
  'run-now': { request: null; reply: BackupRunReport; scope: 'admin' };
};

export const BACKUP_EVENT_TOPIC = 'backup';
