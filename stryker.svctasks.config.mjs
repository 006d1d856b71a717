import { target } from './stryker.base.mjs';

// The service tasks' exactly-once core: the fenced ledger (actors/svctasks/ledger.ts: claim, record, recover) and
// the scheduler's claiming part (actors/svctasks/scheduler-actor.ts: run-now, start/recover, arm/missed, the timer,
// tick with the grace check, fire with the overlap check and the claim, the retry of a failed claim, a run's
// outcome and the ordered save) against the scheduler's and the ledger's unit tests.
// Left out of scheduler-actor.ts: list/get/put/delete/deviations (API CRUD and status), add()/entry(), view() and
// notice() (formatting), the actor's message table. The line ranges follow the file: move them with its functions.
// Last run (2026-12-07 04:29): 95.59 % (295 mutants: 260 killed, 22 timed out, 13 survived), 11.5 minutes on 2 cores
// shared with other test runs (load average 11); about 2.5 s per mutant run when quiet. Under such load slow mutants
// can end as timeouts (counted as detected): `if (!s) fresh.push(e)` → `true` (below) survived the run before.
// The first run, against the tests as they were (no ledger tests), scored 54.2 % (288 mutants) and led to a bug
// fix: a failed claim's retry read "already claimed" off `last_fired`, so after a store outage spanning two firings
// the earlier one was neither run nor recorded.
// The survivors:
// - ledger.ts record(): `runs.length > keep` → `>=`: at exactly `keep` runs, slice(0) keeps the same runs.
// - start(): `if (!s) fresh.push(e)` → `true`: a restored task is saved back as it was loaded (one redundant write);
//   `if (!e.ledger.open.length) continue` → `false`: recovering a ledger with nothing open gives the same ledger and
//   0 interrupted (a redundant write).
// - arm(): `count < 1_000_000` → `true` and → `<=`: the cap on counting missed firings; differs only past a million
//   missed firings (12 days of a 1 s task while no instance was active).
// - arm(): `if (f >= first)` → `true` (a pending retry dropped when arm records missed firings): a retry pending for a
//   firing before `first` needs a later firing's claim to land while the earlier one's retries keep failing, then a
//   hold-up past the grace within the second between two retries. Not equivalent (that firing would go unrecorded),
//   but not reachable with the tests' all-or-nothing store; a known gap.
// - wake() and tick(): `if (this.stopped) return` → `false`: second guards. stop() clears the timer (tested: no
//   timer left) and no message arrives after stop, so neither runs once stopped.
// - wake(): `at >= this.timerAt && this.timer` → `false` and → `at > this.timerAt`: re-arming the timer for the same
//   (or a later) instant instead of keeping it; the same firing times.
// - tick(): `!e || e.next === null` → `false` (three mutants): the due queue and the task map change together (put,
//   delete, arm) and a task with no next firing is not in the queue, so takeDue never yields such an id.
// - track(): `p.finally(() => this.inFlight.delete(p))` → no-op: only memory; stop() awaits settled promises at once.
const SCHED = 'actors/svctasks/scheduler-actor.ts';
export default target(
  'svctasks',
  [
    'actors/svctasks/ledger.ts',
    `${SCHED}:140-143`, // the run-now handler
    `${SCHED}:147-190`, // start(): restore, recover, arm
    `${SCHED}:246-317`, // arm(), missed(), wake(), clearTimer()
    `${SCHED}:319-497`, // tick(), track(), fire(), retry(), runOn() up to its notice
    `${SCHED}:512-519`, // save()
    `${SCHED}:553-558`, // stop()
  ],
  ['test/actors/svctasks/scheduler.test.ts', 'test/actors/svctasks/ledger.test.ts'],
  // The scheduler test file's `runners` suite (real processes and an HTTP server) tests none of this code.
  { testNamePattern: '^service task' },
);
