import { target } from './stryker.base.mjs';

// The FreeSWITCH migration planner (actors/freeswitch/plan.ts: which survivor recovers which call, bridges and
// conferences kept together) against its sentences (test/actors/fs-plan.test.ts).
export default target('fs-plan', 'actors/freeswitch/plan.ts', 'test/actors/fs-plan.test.ts');
