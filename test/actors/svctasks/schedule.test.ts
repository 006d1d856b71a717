import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { allowedAt, inWork, nextFiring } from '../../../actors/svctasks/schedule.ts';
import { targetSites } from '../../../actors/svctasks/sitemode.ts';
import type { SvcTask, WorkWeek } from '../../../actors/svctasks/task.ts';
import { DEFAULT_WORK_WEEK, SvcTask as SvcTaskSchema } from '../../../actors/svctasks/task.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-03-02 is a Monday (UTC). */
const MON = Date.UTC(2026, 2, 2);
const task = (t: Partial<SvcTask>): SvcTask =>
  SvcTaskSchema.parse({ id: 't', domain: 'test.rootdomain.ru', svcscriptcode: 'echo', ...t });

describe('service task schedule', () => {
  it('a regular task fires on the grid dtstart + k × interval, strictly after the given time', () => {
    const t = task({ intervalsec: 600, dtstart: MON + 5 * MIN });
    assert.equal(nextFiring(t, MON, DEFAULT_WORK_WEEK), MON + 5 * MIN);
    assert.equal(nextFiring(t, MON + 5 * MIN, DEFAULT_WORK_WEEK), MON + 15 * MIN);
    assert.equal(nextFiring(t, MON + 15 * MIN - 1, DEFAULT_WORK_WEEK), MON + 15 * MIN);
  });

  it('dtstop ends the firings (exclusive)', () => {
    const t = task({ intervalsec: 600, dtstart: MON, dtstop: MON + 20 * MIN });
    assert.equal(nextFiring(t, MON, DEFAULT_WORK_WEEK), MON + 10 * MIN);
    assert.equal(nextFiring(t, MON + 10 * MIN, DEFAULT_WORK_WEEK), null);
  });

  it('work: Mon–Fri 09–18; an hourly task fires at 09:00 … 17:00, then on the next work day', () => {
    const t = task({ intervalsec: 3600, schedule: 'work' });
    assert.equal(nextFiring(t, MON, DEFAULT_WORK_WEEK), MON + 9 * HOUR);
    assert.equal(nextFiring(t, MON + 17 * HOUR, DEFAULT_WORK_WEEK), MON + 24 * HOUR + 9 * HOUR);
    // Friday 17:00 → Monday 09:00.
    assert.equal(
      nextFiring(t, MON + 4 * 24 * HOUR + 17 * HOUR, DEFAULT_WORK_WEEK),
      MON + 7 * 24 * HOUR + 9 * HOUR,
    );
  });

  it('nonwork is the rest of the week; the work week’s UTC offset moves it', () => {
    const t = task({ intervalsec: 3600, schedule: 'nonwork' });
    assert.equal(nextFiring(t, MON + 9 * HOUR, DEFAULT_WORK_WEEK), MON + 18 * HOUR);
    const moscow: WorkWeek = { ...DEFAULT_WORK_WEEK, utc_offset_min: 180 };
    // 09:00 in UTC+3 is 06:00 UTC.
    assert.ok(inWork(MON + 6 * HOUR, moscow));
    assert.ok(!inWork(MON + 15 * HOUR, moscow));
  });

  it('periods: fires only inside a window; none left → never', () => {
    const t = task({
      intervalsec: 60,
      schedule: 'periods',
      periods: [{ from: MON + 2 * HOUR, to: MON + 2 * HOUR + 3 * MIN }],
    });
    assert.equal(nextFiring(t, MON, DEFAULT_WORK_WEEK), MON + 2 * HOUR);
    assert.equal(nextFiring(t, MON + 2 * HOUR + 2 * MIN, DEFAULT_WORK_WEEK), null);
  });

  it('a one-off task fires once, at dtstart (or the first allowed time after it)', () => {
    const t = task({ isregular: false, dtstart: MON + 3 * HOUR, schedule: 'work' });
    assert.equal(nextFiring(t, 0, DEFAULT_WORK_WEEK), MON + 9 * HOUR);
    assert.equal(nextFiring(t, MON + 9 * HOUR, DEFAULT_WORK_WEEK), null);
    assert.throws(() => task({ isregular: false }), /needs dtstart/);
  });

  it('property: the next firing is after the given time, on the grid, allowed, and no allowed grid time is skipped', () => {
    const arb = fc.record({
      intervalsec: fc.integer({ min: 60, max: 4 * 3600 }),
      offset: fc.integer({ min: 0, max: 3 * 86_400_000 }),
      after: fc.integer({ min: 0, max: 10 * 86_400_000 }),
      schedule: fc.constantFrom('always', 'work', 'nonwork', 'periods' as const),
      periodStart: fc.integer({ min: 0, max: 5 * 86_400_000 }),
      periodLen: fc.integer({ min: 1, max: 86_400_000 }),
      days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
      h0: fc.integer({ min: 0, max: 22 }),
      utc: fc.integer({ min: -600, max: 600 }),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const dtstart = MON + a.offset;
        const t = task({
          intervalsec: a.intervalsec,
          dtstart,
          schedule: a.schedule,
          periods: [{ from: MON + a.periodStart, to: MON + a.periodStart + a.periodLen }],
        });
        const week: WorkWeek = { days: a.days, hours: [a.h0, a.h0 + 1], utc_offset_min: a.utc };
        const after = MON + a.after;
        const next = nextFiring(t, after, week);
        const step = a.intervalsec * 1000;
        // Brute force over the grid, within two weeks.
        let expected: number | null = null;
        for (let g = dtstart; g < after + 14 * 86_400_000; g += step)
          if (g > after && allowedAt(t, g, week)) {
            expected = g;
            break;
          }
        if (expected === null) return next === null || next >= after + 14 * 86_400_000;
        return next === expected;
      }),
      { numRuns: 300 },
    );
  });
});

describe('sitemode → sites', () => {
  const known = ['a', 'b', 'c'];
  it('all: every site; any: the own site; sites_all: the listed ones', () => {
    assert.deepEqual(targetSites({ sitemode: 'all', sites: [] }, known, new Set(['a']), 'a'), [
      'a',
      'b',
      'c',
    ]);
    assert.deepEqual(targetSites({ sitemode: 'any', sites: [] }, known, new Set(['a']), 'b'), ['b']);
    assert.deepEqual(targetSites({ sitemode: 'sites_all', sites: ['c', 'a', 'c'] }, known, new Set(), 'a'), [
      'c',
      'a',
    ]);
  });
  it('first: the first live listed site, in order; sites_any prefers the own site', () => {
    assert.deepEqual(targetSites({ sitemode: 'first', sites: ['c', 'b', 'a'] }, known, new Set(['b']), 'a'), [
      'b',
    ]);
    assert.deepEqual(targetSites({ sitemode: 'first', sites: ['c'] }, known, new Set(), 'a'), []);
    assert.deepEqual(targetSites({ sitemode: 'sites_any', sites: ['b', 'a'] }, known, new Set(['b']), 'a'), [
      'a',
    ]);
    assert.deepEqual(targetSites({ sitemode: 'sites_any', sites: ['c', 'b'] }, known, new Set(['b']), 'a'), [
      'b',
    ]);
  });
  it('property: one-site modes give at most one live site; all/sites_all give each site once', () => {
    const site = fc.constantFrom<string>('a', 'b', 'c', 'd');
    fc.assert(
      fc.property(
        fc.constantFrom('all', 'any', 'sites_all', 'sites_any', 'first' as const),
        fc.array(site, { minLength: 1, maxLength: 5 }),
        fc.uniqueArray(site),
        site,
        (sitemode, sites, liveList, own) => {
          const live = new Set(liveList);
          const out = targetSites({ sitemode, sites }, ['a', 'b', 'c', 'd'], live, own);
          if (new Set(out).size !== out.length) return false;
          if (sitemode === 'any' || sitemode === 'sites_any' || sitemode === 'first') {
            if (out.length > 1) return false;
            if (out[0] !== undefined && out[0] !== own && !live.has(out[0])) return false;
            if (sitemode !== 'any' && out[0] !== undefined && !sites.includes(out[0])) return false;
            // first: nothing live comes before it in the list.
            if (sitemode === 'first') {
              const i = out[0] === undefined ? sites.length : sites.indexOf(out[0]);
              if (sites.slice(0, i).some((s) => s === own || live.has(s))) return false;
            }
          }
          return true;
        },
      ),
    );
  });
});
