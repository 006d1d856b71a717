import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  inWindow,
  isoWeekday,
  nextRunAt,
  nextWindowStart,
  sameWindow,
  windowStartOf,
} from '../../../actors/backup/schedule.ts';

// Local times (the schedule is in the node's time zone). 2026-03-02 is a Monday.
const at = (day: number, hour: number, minute = 0) => new Date(2026, 2, day, hour, minute).getTime();
const every = [1, 2, 3, 4, 5, 6, 7];

describe('backup schedule', () => {
  it('numbers weekdays 1 = Monday … 7 = Sunday', () => {
    assert.equal(isoWeekday(at(2, 12)), 1);
    assert.equal(isoWeekday(at(8, 12)), 7);
  });

  it('a window [20, 3] wraps midnight: 20:00 to 02:59 belong to the window opened at 20:00', () => {
    const s = { hours_interval: [20, 3] as const, weekdays: every };
    assert.equal(windowStartOf(at(2, 19, 59), s), null);
    assert.equal(windowStartOf(at(2, 20), s), at(2, 20));
    assert.equal(windowStartOf(at(2, 23, 59), s), at(2, 20));
    assert.equal(windowStartOf(at(3, 0, 30), s), at(2, 20));
    assert.equal(windowStartOf(at(3, 2, 59), s), at(2, 20));
    assert.equal(windowStartOf(at(3, 3), s), null);
    assert.ok(sameWindow(at(2, 21), at(3, 1), s));
    assert.ok(!sameWindow(at(2, 21), at(3, 21), s));
  });

  it('a window [1, 5] does not wrap', () => {
    const s = { hours_interval: [1, 5] as const, weekdays: every };
    assert.ok(!inWindow(at(2, 0, 59), s));
    assert.ok(inWindow(at(2, 1), s));
    assert.ok(inWindow(at(2, 4, 59), s));
    assert.ok(!inWindow(at(2, 5), s));
    assert.equal(nextWindowStart(at(2, 5), s), at(3, 1));
  });

  it('weekdays are those the window opens on: Sunday night after midnight belongs to Sunday', () => {
    const sundays = { hours_interval: [20, 3] as const, weekdays: [7] };
    assert.equal(windowStartOf(at(9, 1), sundays), at(8, 20)); // Monday 01:00, opened Sunday 20:00
    assert.equal(windowStartOf(at(8, 1), sundays), null); // Sunday 01:00 opened on Saturday
    assert.equal(windowStartOf(at(9, 21), sundays), null); // Monday evening
    assert.equal(nextWindowStart(at(9, 1), sundays), at(15, 20));
  });

  it('Monday to Friday: the next window after Friday night opens on Monday', () => {
    const weekdays = { hours_interval: [22, 2] as const, weekdays: [1, 2, 3, 4, 5] };
    assert.ok(inWindow(at(7, 1), weekdays)); // Saturday 01:00, Friday's window
    assert.ok(!inWindow(at(7, 23), weekdays)); // Saturday evening
    assert.equal(nextWindowStart(at(7, 1), weekdays), at(9, 22));
  });

  it('start = end is a whole day', () => {
    const s = { hours_interval: [0, 0] as const, weekdays: every };
    assert.equal(windowStartOf(at(2, 13), s), at(2, 0));
    assert.equal(nextWindowStart(at(2, 0), s), at(3, 0));
  });

  it('runs at most once per window: after a good run the next one waits for the next window', () => {
    const s = { hours_interval: [20, 3] as const, weekdays: every };
    assert.equal(nextRunAt(at(2, 21), s, null), at(2, 21));
    assert.equal(nextRunAt(at(2, 21), s, at(2, 20)), at(3, 20));
    assert.equal(nextRunAt(at(3, 1), s, at(2, 20)), at(3, 20));
    // outside every window: the next start
    assert.equal(nextRunAt(at(2, 12), s, null), at(2, 20));
    // a retry time past the window's end moves to the next window
    assert.equal(nextRunAt(at(3, 3, 10), s, null), at(3, 20));
  });
});
