import { target } from './stryker.base.mjs';

// The pg controller's failover rules (actors/pg/decide.ts) against their sentences (test/actors/pg-decide.test.ts).
// Last run (2026-12-06): 92.84 % (335 mutants, 24 survivors), about 2 minutes. The survivors:
// - reason texts (StringLiteral) where a test pins only the phase, and `', '` in names();
// - equivalent: `memory.primary === null` → false (the lookup of a null name finds no server, same branch);
//   `s.name === p.name` → false in decideHealthy (the published primary serves, so no rejoin rule matches it);
//   `primaries.length > 1` → `>= 1` (exactly one returned just before); `lag !== null && …` → `true && …`
//   (`null > n` is false); `?? 0` → `&& 0` on timelines, positions and received LSNs where only nulls differ and a
//   null sorts with 0 either way in the tests' data;
// - states the server actor never reports: a database that is not `up` with `recovery` true (recovery is read from the
//   database, so it is null then) — the `s.db === 'up' && s.recovery === true` filters;
// - the boundary `silentFor < confirmMs` at equality, and `unreachableSince ?? now` → `&&` (a server down since an
//   unknown time is counted from `since`, the controller's start, either way in the tests).
export default target('pg-decide', 'actors/pg/decide.ts', 'test/actors/pg-decide.test.ts');
