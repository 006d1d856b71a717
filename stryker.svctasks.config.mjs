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
    `${SCHED}:138-141`,
    `${SCHED}:144-188`,
    `${SCHED}:232-304`,
    `${SCHED}:306-476`,
    `${SCHED}:491-498`,
  ],
  ['test/actors/svctasks/scheduler.test.ts', 'test/actors/svctasks/ledger.test.ts'],
);
