import { target } from './stryker.base.mjs';

// The service tasks' exactly-once core: the fenced ledger (actors/svctasks/ledger.ts: claim, record, recover) and
// the scheduler's claiming part (actors/svctasks/scheduler-actor.ts: run-now, start/recover, arm/missed, the timer,
// tick with the grace check, fire with the overlap check and the claim, the retry of a failed claim, a run's
// outcome and the ordered save) against the scheduler's and the ledger's unit tests.
// Left out of scheduler-actor.ts: list/get/put/delete/deviations (API CRUD and status), view() and notice()
// (formatting), the actor's message table.
const SCHED = 'actors/svctasks/scheduler-actor.ts';
export default target(
  'svctasks',
  [
    'actors/svctasks/ledger.ts',
    `${SCHED}:140-143`, // the run-now handler
    `${SCHED}:147-190`, // start(): restore, recover, arm
    `${SCHED}:246-317`, // arm(), missed(), wake(), clearTimer()
    `${SCHED}:319-496`, // tick(), track(), fire(), retry(), runOn() up to its notice
    `${SCHED}:511-518`, // save()
    `${SCHED}:552-557`, // stop()
  ],
  ['test/actors/svctasks/scheduler.test.ts', 'test/actors/svctasks/ledger.test.ts'],
  // The scheduler test file's `runners` suite (real processes and an HTTP server) tests none of this code.
  { testNamePattern: '^service task' },
);
