import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildOutput } from '../../src/child-output.ts';
import { scrubber } from '../../src/redaction.ts';
import { SshPool } from '../../src/ssh/index.ts';
import type { ArchiveLimits } from './pg-archive.ts';
import { archivePgdb, DEFAULT_ARCHIVE_LIMITS } from './pg-archive.ts';
import type { BackupRunReport } from './protocol.ts';
import { StepRecorder } from './steps.ts';
import { syncFolder } from './sync-folder.ts';
import type { BackupConfig } from './targets.ts';
import { secretsOf } from './targets.ts';

/** What a run needs from its actor. */
export interface RunOptions {
  trigger: BackupRunReport['trigger'];
  /** Monotonic ms (step durations) and wall-clock ms (timestamps, `%date`, `%weekday`). */
  now: () => number;
  wallNow: () => number;
  /** A folder of this node's for the archives in transit (emptied after the run). */
  workDir: string;
  /** This node's host name (`%host` of the sync folder's path). */
  host: string;
  limits?: Partial<ArchiveLimits>;
  /** True once the controller is stopping: the run ends before its next step. */
  aborted?: () => boolean;
  /** Aborted when the controller is stopping: the local rsync or zip under way is killed. */
  signal?: AbortSignal;
  /** Where the output of the child processes it starts (rsync, zip) goes, line by line. */
  childOutput?: (source: string) => ChildOutput;
  /** Called with the pool, so a stopping controller can close its connections (killing remote commands). */
  onPool?: (pool: SshPool) => void;
}

/**
 * One backup run: every pgdb entry in order, then the sync folder. The first failing step aborts the run (04-
 * postgres.md: "If any step fails, the whole run is aborted"); the report says which, and never holds a secret.
 */
export async function runBackup(cfg: BackupConfig, o: RunOptions): Promise<BackupRunReport> {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...o.limits };
  const scrub = scrubber(secretsOf(cfg));
  const steps = new StepRecorder(o.now, scrub, o.aborted ?? (() => false));
  const started = o.wallNow();
  const ssh = new SshPool({ connectTimeoutMs: limits.probeMs, transferTimeoutMs: limits.transferMs });
  o.onPool?.(ssh);
  mkdirSync(o.workDir, { recursive: true });
  const localDir = mkdtempSync(join(o.workDir, 'run-'));
  let error: string | null = null;
  try {
    for (const entry of cfg.pgdb)
      await archivePgdb(cfg, entry, { ssh, steps, localDir, wallNow: started, limits });
    await syncFolder(cfg, {
      steps,
      ssh,
      localDir,
      wallNow: started,
      host: o.host,
      limits,
      ...(o.childOutput && { output: o.childOutput }),
      ...(o.signal && { signal: o.signal }),
    });
  } catch (err) {
    error = scrub(err instanceof Error ? err.message : String(err));
  } finally {
    ssh.close();
    rmSync(localDir, { recursive: true, force: true });
  }
  return {
    started_at: started,
    finished_at: o.wallNow(),
    ok: error === null,
    trigger: o.trigger,
    steps: steps.steps,
    bytes: steps.steps
      .filter((s) => s.step === 'upload' || s.step === 'sync')
      .reduce((n, s) => n + (s.bytes ?? 0), 0),
    error,
  };
}
