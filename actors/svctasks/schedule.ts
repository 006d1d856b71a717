import type { SvcTask, WorkWeek } from './task.ts';

/**
 * When a task fires: pure functions of the task, the work week and a time, so every node (and a new active after a
 * takeover) computes the same firing times, and a firing is named by (task, scheduled time, site).
 *
 * - A regular task fires on a grid: `dtstart + k × intervalsec` (from the epoch when it has no `dtstart`), at the
 *   grid times inside `[dtstart, dtstop)` that its `schedule` allows. A grid time outside the schedule is not moved:
 *   the task waits for the next grid time inside it (an hourly task limited to work time fires at 09:00 … 17:00).
 * - A one-off task (`isregular: false`) fires once, at the first time from `dtstart` on that its schedule allows.
 * - `schedule`: `always`; `work` — inside the work week ({@link WorkWeek}: Mon–Fri 09–18 by default); `nonwork` —
 *   outside it; `periods` — inside one of the task's `periods` (`[from, to)`).
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Grid steps examined at most for one answer: a schedule that allows nothing for this long is "never". */
const MAX_STEPS = 100_000;

type Schedule = Pick<SvcTask, 'schedule' | 'periods'>;

/** ISO day of week (1 = Monday … 7 = Sunday) of a day starting at `dayStart` (ms, UTC-based local time). */
function isoDay(dayStart: number): number {
  return ((new Date(dayStart).getUTCDay() + 6) % 7) + 1;
}

/** The work window of the local day holding `local` (local = UTC + offset), if that day is a work day. */
function workWindow(local: number, week: WorkWeek): [number, number] | undefined {
  const day = Math.floor(local / DAY) * DAY;
  if (!week.days.includes(isoDay(day))) return undefined;
  return [day + week.hours[0] * HOUR, day + week.hours[1] * HOUR];
}

export function inWork(t: number, week: WorkWeek): boolean {
  const local = t + week.utc_offset_min * 60_000;
  const w = workWindow(local, week);
  return w !== undefined && local >= w[0] && local < w[1];
}

/** The first instant ≥ t inside work time. */
function nextWork(t: number, week: WorkWeek): number | null {
  const off = week.utc_offset_min * 60_000;
  const local = t + off;
  for (let k = 0; k <= 7; k++) {
    const w = workWindow(local + k * DAY, week);
    if (w && local < w[1]) return Math.max(local, w[0]) - off;
  }
  return null;
}

/** The first instant ≥ t outside work time (null when the whole week is work time). */
function nextNonwork(t: number, week: WorkWeek): number | null {
  const off = week.utc_offset_min * 60_000;
  let at = t;
  for (let k = 0; k <= 8; k++) {
    if (!inWork(at, week)) return at;
    const w = workWindow(at + off, week) as [number, number];
    at = w[1] - off;
  }
  return null;
}

/** True when the task's schedule allows a firing at `t`. */
export function allowedAt(task: Schedule, t: number, week: WorkWeek): boolean {
  switch (task.schedule) {
    case 'always':
      return true;
    case 'work':
      return inWork(t, week);
    case 'nonwork':
      return !inWork(t, week);
    case 'periods':
      return task.periods.some((p) => t >= p.from && t < p.to);
    default: {
      const never: never = task.schedule;
      throw new Error(`unknown schedule ${String(never)}`);
    }
  }
}

/** The first instant ≥ t the schedule allows, or null if none ever will. */
export function nextAllowed(task: Schedule, t: number, week: WorkWeek): number | null {
  switch (task.schedule) {
    case 'always':
      return t;
    case 'work':
      return nextWork(t, week);
    case 'nonwork':
      return nextNonwork(t, week);
    case 'periods': {
      let best: number | null = null;
      for (const p of task.periods) {
        if (t >= p.to) continue;
        const at = Math.max(t, p.from);
        if (best === null || at < best) best = at;
      }
      return best;
    }
    default: {
      const never: never = task.schedule;
      throw new Error(`unknown schedule ${String(never)}`);
    }
  }
}

/** The first firing time strictly after `after`, or null when the task will not fire again. */
export function nextFiring(task: SvcTask, after: number, week: WorkWeek): number | null {
  if (!task.isregular) {
    const at = task.dtstart === null ? null : nextAllowed(task, task.dtstart, week);
    return at !== null && at > after && (task.dtstop === null || at < task.dtstop) ? at : null;
  }
  const step = task.intervalsec * 1000;
  const anchor = task.dtstart ?? 0;
  let lower = Math.max(after + 1, anchor);
  for (let i = 0; i < MAX_STEPS; i++) {
    const t = anchor + Math.ceil((lower - anchor) / step) * step;
    if (task.dtstop !== null && t >= task.dtstop) return null;
    const allowed = nextAllowed(task, t, week);
    if (allowed === null) return null;
    if (allowed === t) return t;
    lower = allowed;
  }
  return null;
}
