import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { TimerHandle } from '../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import type { SshPool } from '../../src/ssh/index.ts';
import type { SerializedError } from '../../src/errors.ts';
import { serializeError } from '../../src/errors.ts';
import { BackupAlreadyRunning, BackupStepFailed } from './errors.ts';
import type { ArchiveLimits } from './pg-archive.ts';
import type { BackupProtocol, BackupRunReport, BackupStatus } from './protocol.ts';
import { BACKUP_EVENT_TOPIC } from './protocol.ts';
import { runBackup } from './run.ts';
import { childOutputLog } from '../../src/child-output.ts';
import { nextRunAt, windowStartOf } from './schedule.ts';
import type { BackupConfig } from './targets.ts';

/** Output lines of each child process of a run (rsync, zip) logged at most; the rest are counted. */
const CHILD_LINES = 200;

/**
 * `/backup`: runs a backup once per window (schedule.ts), or at once on `run-now`; after a failed run the next
 * attempt waits {@link RETRY_MS}. Its last result, last success and served window are saved in its state, so a
 * restart or a takeover by the group's other instance neither forgets them nor runs twice in a window.
 */

/** 04-postgres.md: after a failure, "the next attempt is made no sooner than 20 minutes later". */
export const RETRY_MS = 20 * 60_000;
/** The timer is re-armed at least this often, so a wall-clock change (NTP, DST) is noticed. */
const MAX_TIMER_MS = 5 * 60_000;

export interface BackupArgs {
  config: BackupConfig;
  /** Local folder for archives in transit. */
  workDir: string;
  host: string;
  notify: (n: ServiceNotice) => void;
  limits?: Partial<ArchiveLimits>;
}

export interface BackupSaved {
  last: BackupRunReport | null;
  last_success_at: number | null;
  /** Start of the window whose run succeeded (no second run in it). */
  done_window: number | null;
  /** No scheduled attempt before this wall-clock time (after a failure). */
  retry_at: number | null;
}

class BackupActor implements Behavior<BackupProtocol> {
  private saved: BackupSaved;
  private running: Promise<BackupRunReport> | undefined;
  private runningSince: number | null = null;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private pool: SshPool | undefined;
  /** Kills the run's local child process (rsync, zip) when the controller stops. */
  private readonly stopping = new AbortController();
  /** The last run's failure, as the tree shows it (built once per run). */
  private failure: SerializedError | undefined;

  constructor(
    private readonly args: BackupArgs,
    private readonly ctx: ActorContext<BackupSaved>,
  ) {
    this.saved = ctx.state.restored ?? {
      last: null,
      last_success_at: null,
      done_window: null,
      retry_at: null,
    };
    this.failure = failureOf(this.saved.last);
    this.arm();
  }

  get handlers(): Handlers<BackupProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<BackupProtocol, BackupActor> = {
    status() {
      return this.status();
    },
    'run-now'() {
      if (this.running)
        throw new BackupAlreadyRunning(
          `a backup run is already under way (since ${new Date(this.runningSince ?? 0).toISOString()})`,
        );
      return this.start('run-now');
    },
  };

  private get disabled(): boolean {
    return this.args.config.pgdb.length === 0 && this.args.config.sync_folder === undefined;
  }

  private nextAt(): number | null {
    if (this.disabled) return null;
    const c = this.args.config;
    const from = Math.max(this.ctx.clock.wallNow(), this.saved.retry_at ?? 0);
    return nextRunAt(from, c, this.saved.done_window);
  }

  problem(): SerializedError | undefined {
    return this.failure;
  }

  status(): BackupStatus {
    const c = this.args.config;
    const now = this.ctx.clock.wallNow();
    const phase = this.disabled
      ? 'disabled'
      : this.running
        ? 'running'
        : (this.saved.retry_at ?? 0) > now
          ? 'waiting-retry'
          : 'idle';
    return {
      phase,
      hours_interval: [c.hours_interval[0], c.hours_interval[1]],
      weekdays: [...c.weekdays],
      next_at: this.running ? null : this.nextAt(),
      last: this.saved.last,
      last_success_at: this.saved.last_success_at,
      running_since: this.runningSince,
    };
  }

  /** Sets the timer for the next scheduled attempt (or starts it, when due). */
  private arm(): void {
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.running) return;
    const at = this.nextAt();
    if (at === null) return;
    const wait = at - this.ctx.clock.wallNow();
    if (wait <= 0) {
      void this.start('window');
      return;
    }
    this.timer = this.ctx.clock.setTimeout(() => this.arm(), Math.min(wait, MAX_TIMER_MS));
  }

  private start(trigger: BackupRunReport['trigger']): Promise<BackupRunReport> {
    const run = this.run(trigger);
    this.running = run;
    return run;
  }

  private async run(trigger: BackupRunReport['trigger']): Promise<BackupRunReport> {
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    this.runningSince = this.ctx.clock.wallNow();
    this.notice('run-started', 'info', `backup run started (${trigger})`, { trigger });
    const report = await runBackup(this.args.config, {
      trigger,
      now: () => this.ctx.clock.now(),
      wallNow: () => this.ctx.clock.wallNow(),
      workDir: this.args.workDir,
      host: this.args.host,
      ...(this.args.limits && { limits: this.args.limits }),
      aborted: () => this.stopped,
      signal: this.stopping.signal,
      onPool: (p) => (this.pool = p),
      childOutput: (source) => childOutputLog(this.ctx.log, { source, trigger }, CHILD_LINES),
    });
    this.pool = undefined;
    this.failure = failureOf(report);
    const done = windowStartOf(report.started_at, this.args.config);
    this.saved = report.ok
      ? { last: report, last_success_at: report.finished_at, done_window: done, retry_at: null }
      : { ...this.saved, last: report, retry_at: report.finished_at + RETRY_MS };
    const ms = report.finished_at - report.started_at;
    const data = { trigger, ok: report.ok, bytes: report.bytes, ms, steps: report.steps.length };
    if (report.ok)
      this.notice('run-ended', 'info', `backup run done: ${report.bytes} bytes sent in ${ms} ms`, data);
    else
      this.notice(
        'run-failed',
        'error',
        `backup run failed, next attempt in 20 min or later: ${report.error ?? ''}`,
        data,
      );
    try {
      await this.ctx.state.save(this.saved);
    } catch (err) {
      this.ctx.log.warn({ err }, 'backup: could not save the last result');
    }
    this.running = undefined;
    this.runningSince = null;
    this.arm();
    return report;
  }

  private notice(
    event: string,
    level: ServiceNotice['level'],
    message: string,
    data: Record<string, unknown>,
  ) {
    this.args.notify({ type: 'notice', topic: BACKUP_EVENT_TOPIC, event, level, message, data });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    // Closing the connections kills the remote commands, the signal the local ones; the run then ends at its
    // failing step.
    this.pool?.close();
    this.stopping.abort();
    await this.running?.catch(() => undefined);
  }
}
const HANDLERS = BackupActor.handlers;

function failureOf(report: BackupRunReport | null): SerializedError | undefined {
  if (!report || report.ok) return undefined;
  const failed = report.steps.find((s) => !s.ok);
  return serializeError(
    new BackupStepFailed(`backup run failed: ${report.error ?? 'unknown'}`, {
      details: { step: failed?.step ?? null, finished_at: report.finished_at },
    }),
  );
}

export const backupActor = defineActor<BackupProtocol, BackupArgs, BackupSaved>({
  kind: 'backup',
  moduleUrl: import.meta.url,
  exportName: 'backupActor',
  stateKey: () => 'backup',
  messages: {
    status: { payload: z.null(), scope: 'read', summary: 'The schedule, the last run and the next attempt' },
    'run-now': { payload: z.null(), scope: 'admin', summary: 'Runs a backup now; answers when it has ended' },
  },
  create: (args, ctx) => new BackupActor(args, ctx),
});
