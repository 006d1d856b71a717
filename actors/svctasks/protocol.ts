import type { Deviation } from '../../src/monitor/deviation.ts';
import type { OpenRun, RunRecord } from './ledger.ts';
import type { Job, JobOutcome } from './runner.ts';
import type { SvcTask } from './task.ts';

/** The messages of `/svctasks/<domain>` (a domain's scheduler) and `/svctasks/_runner` (this site's runner). */

export const TASKS_EVENT_TOPIC = 'svctasks';

export type TaskSource = 'file' | 'api';

/** A task as listed: its definition without the script code, and where its schedule stands. */
export type TaskView = Omit<SvcTask, 'svcscriptcode'> & {
  source: TaskSource;
  code_bytes: number;
  /** The next scheduled firing (null: none — disabled, over, or nothing the schedule allows). */
  next_at: number | null;
  last_fired: number | null;
  /** Sites where a run is under way now. */
  running: string[];
  last_run: RunRecord | null;
};

/** `open`: runs claimed and not finished (under way, or claimed by a previous active that stopped). */
export type TaskDetail = TaskView & { svcscriptcode: string; runs: RunRecord[]; open: OpenRun[] };

export type SchedulerProtocol = {
  list: { request: null; reply: TaskView[]; scope: 'read' };
  get: { request: { id: string }; reply: TaskDetail; scope: 'read' };
  /** `task`: an svctask as `SvcTaskInput`, parsed by the scheduler (its errors name the fields). */
  put: { request: { task: Record<string, unknown> }; reply: TaskView; scope: 'admin' };
  delete: { request: { id: string }; reply: { deleted: string }; scope: 'admin' };
  'run-now': { request: { id: string }; reply: RunRecord[]; scope: 'admin' };
  /** Tasks whose last run did not succeed (src/monitor/deviation.ts). */
  deviations: { request: null; reply: Deviation[]; scope: 'read' };
};

/** Not public (no scope): asked by the node's own schedulers, and by peer nodes' through the node channel. */
export type RunnerProtocol = {
  execute: { request: Job; reply: JobOutcome };
};
