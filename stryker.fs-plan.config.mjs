import { target } from './stryker.base.mjs';

// The FreeSWITCH migration planner (actors/freeswitch/plan.ts: which survivor recovers which call, bridges and
// conferences kept together) against its sentences (test/actors/fs-plan.test.ts).
// Last run (2026-12-06): 93.38 % (136 mutants, 9 survivors), under a minute. Unit tests kill the rest. The survivors are equivalent:
// - `a.id < b.id` → `<=` in the order of equal-size calls, and `a.uuid < b.uuid` → `<=` when sorting a call's legs
//   (uuids and call ids are unique: never equal);
// - `fit.slice(1)` → `fit` (comparing the first host with itself changes nothing);
// - the union-find's internals: the path compression loop (`while (parent.get(c) !== r)` → false: only speed) and
//   which of two roots becomes the parent (`ra < rb ? …`: either gives the same groups; ids come from sorted legs).
export default target('fs-plan', 'actors/freeswitch/plan.ts', 'test/actors/fs-plan.test.ts');
