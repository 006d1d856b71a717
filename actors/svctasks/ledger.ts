import type { JobOutcome } from './runner.ts';

/**
 * The fenced record of a task's firings (saved with the task, one state key per task): the last firing claimed, the
 * runs claimed and not yet finished, and the last runs. The exactly-once argument (06-services.md "exactly once per
 * firing and site"):
 * - a firing is **claimed** by saving `last_fired` and its open runs *before* anything runs. The save is a state
 *   write at the writer's epoch, which Redis refuses once a newer active has raised the group's fence
 *   (src/state/redis-store.ts). So a deposed active cannot claim, and a claim that landed is seen by the next active;
 * - the next active restores the record and never fires at or before `last_fired` again (no second run);
 * - a run it finds claimed and unfinished is recorded as `interrupted` (not dropped silently, not run again): its
 *   runner may or may not have finished it, nobody can know;
 * - a firing that was due while no instance was active is fired late if it is at most `grace_ms` old, otherwise
 *   recorded as `missed` (with a count), never skipped without a trace.
 * This holds with `state_mode: transactional`; with `periodic` or `none` a takeover can repeat or lose a firing.
 */

export type RunStatus =
  JobOutcome['status'] | 'interrupted' | 'unreachable' | 'no-site' | 'skipped-overlap' | 'missed';

export type Trigger = 'schedule' | 'run-now';

export interface RunRecord {
  firing_at: number;
  /** The site it ran on (null: no site could take it, or a `missed` summary). */
  site: string | null;
  trigger: Trigger;
  status: RunStatus;
  started_at: number | null;
  finished_at: number;
  duration_ms: number | null;
  exit_code: number | null;
  output: string;
  error?: string;
  /** The node and epoch that claimed the firing. */
  node: string;
  epoch: number;
  /** For `missed`: how many firings were missed (this one is the first). */
  count?: number;
}

export interface OpenRun {
  firing_at: number;
  site: string;
  trigger: Trigger;
  started_at: number;
  node: string;
  epoch: number;
}

export interface TaskLedger {
  /** The latest scheduled firing claimed (null: never fired). `run-now` firings do not move it. */
  last_fired: number | null;
  open: OpenRun[];
  /** Oldest first, at most `keep` of them. */
  runs: RunRecord[];
}

export const EMPTY_LEDGER: TaskLedger = { last_fired: null, open: [], runs: [] };

/** The ledger with the firing at `firingAt` claimed on `runs`' sites. */
export function claim(
  l: TaskLedger,
  runs: readonly OpenRun[],
  firingAt: number,
  trigger: Trigger,
): TaskLedger {
  return {
    last_fired: trigger === 'schedule' ? Math.max(l.last_fired ?? -Infinity, firingAt) : l.last_fired,
    open: [...l.open, ...runs],
    runs: l.runs,
  };
}

/** The ledger with `run` kept (the oldest dropped beyond `keep`), and its open entry, if any, closed. */
export function record(l: TaskLedger, run: RunRecord, keep: number): TaskLedger {
  const open = l.open.filter(
    (o) => !(o.firing_at === run.firing_at && o.site === run.site && o.trigger === run.trigger),
  );
  const runs = [...l.runs, run];
  return { last_fired: l.last_fired, open, runs: runs.length > keep ? runs.slice(runs.length - keep) : runs };
}

/** After a takeover or restart: every run claimed and not finished is recorded as `interrupted`. */
export function recover(
  l: TaskLedger,
  now: number,
  keep: number,
): { ledger: TaskLedger; interrupted: number } {
  let out: TaskLedger = { ...l, open: [] };
  for (const o of l.open)
    out = record(
      out,
      {
        firing_at: o.firing_at,
        site: o.site,
        trigger: o.trigger,
        status: 'interrupted',
        started_at: o.started_at,
        finished_at: now,
        duration_ms: null,
        exit_code: null,
        output: '',
        error: `claimed by ${o.node} at epoch ${o.epoch}, which stopped before the run's outcome was recorded`,
        node: o.node,
        epoch: o.epoch,
      },
      keep,
    );
  return { ledger: out, interrupted: l.open.length };
}
