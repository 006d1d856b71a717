/**
 * The backup window (04-postgres.md "backup_controller"): `hours_interval` = [start hour, end hour), wrapping
 * midnight when start > end (start = end: a whole day), on the `weekdays` the window *starts* on (1 = Monday …
 * 7 = Sunday), so the hours after midnight of a wrapping window belong to the day before. Times are the node's
 * local time (its TZ): an operator writes "20 to 3" meaning the site's evening. Pure functions over wall-clock
 * milliseconds.
 */

export interface Schedule {
  hours_interval: readonly [number, number];
  weekdays: readonly number[];
}

/** 1 = Monday … 7 = Sunday, in local time. */
export function isoWeekday(t: number): number {
  const d = new Date(t).getDay();
  return d === 0 ? 7 : d;
}

/** The window that opens on the local day `dayOffset` days after the day of `t`: its start and end. */
function windowOn(t: number, dayOffset: number, s: Schedule): { start: number; end: number } {
  const [from, to] = s.hours_interval;
  const d = new Date(t);
  // Date's constructor normalises day overflow and follows DST: 20:00 local is 20:00 whatever the offset.
  const start = new Date(d.getFullYear(), d.getMonth(), d.getDate() + dayOffset, from).getTime();
  const endDay = to > from ? dayOffset : dayOffset + 1;
  const end = new Date(d.getFullYear(), d.getMonth(), d.getDate() + endDay, to).getTime();
  return { start, end };
}

/** Start of the window `t` lies in, or null when `t` is outside every window. */
export function windowStartOf(t: number, s: Schedule): number | null {
  // A window containing t opened today or (wrapping midnight, or a whole day) yesterday; today's is the later one.
  for (const offset of [0, -1]) {
    const w = windowOn(t, offset, s);
    if (w.start <= t && t < w.end && s.weekdays.includes(isoWeekday(w.start))) return w.start;
  }
  return null;
}

export function inWindow(t: number, s: Schedule): boolean {
  return windowStartOf(t, s) !== null;
}

/** Whether `a` and `b` lie in one and the same window (a run done at `a` is the window's run at `b`). */
export function sameWindow(a: number, b: number, s: Schedule): boolean {
  const w = windowStartOf(a, s);
  return w !== null && w === windowStartOf(b, s);
}

/** The first window start strictly after `t` (within the next 8 days: every weekday list holds one). */
export function nextWindowStart(t: number, s: Schedule): number {
  for (let offset = 0; offset <= 8; offset++) {
    const w = windowOn(t, offset, s);
    if (w.start > t && s.weekdays.includes(isoWeekday(w.start))) return w.start;
  }
  throw new RangeError(`no backup window: weekdays ${JSON.stringify(s.weekdays)}`);
}

/**
 * When the next run may start, not before `from` (now, or the retry time after a failure): `from` itself when it
 * lies in a window not yet served (`doneWindow`: the start of the window whose run succeeded), else the next
 * window's start.
 */
export function nextRunAt(from: number, s: Schedule, doneWindow: number | null): number {
  const w = windowStartOf(from, s);
  if (w !== null && w !== doneWindow) return from;
  return nextWindowStart(from, s);
}
