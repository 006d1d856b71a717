import { target } from './stryker.base.mjs';

// The per-call proof of a migration (actors/freeswitch/proof.ts: re-created, re-bridged, through the re-INVITE
// window without a recovery hangup) against its sentences (test/actors/fs-proof.test.ts).
// Last run (2026-12-06): 90.91 % (140 mutants, 14 survivors), under a minute. The survivors are equivalent:
// - the `case` labels of events that prove nothing (`answered`, `unbridged`, …) and the exhaustiveness `default`;
// - `if (c.target)` → true in the constructor (a call without a target never matches an event's host);
// - `leg.recreatedAt !== null` in windowEnd, `t !== null` and `?.recreatedAt` in closeWindows (a `recreated`
//   call has every leg's time, every leg is known);
// - the early return for a `lost` call in update (it recomputes to lost: the fatal hangup is still there).
export default target('fs-proof', 'actors/freeswitch/proof.ts', 'test/actors/fs-proof.test.ts');
