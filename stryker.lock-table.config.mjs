import { target } from './stryker.base.mjs';

// Last run (2026-12-06): 95.52 % (6 survivors), about a minute.
// The survivors are equivalent mutants (no observable change):
// - `holders: Holder[] = []` → `["Stryker was here"]`: the constructor always assigns `holders`.
// - `nextWaiterId++` → `nextWaiterId--`: waiter ids stay unique (1, 0, -1, …); uniqueness is all they are used for.
// - in `expire`, `if (expired.length > 0)` → `if (true)` and → `>= 0`: filtering when nothing expired keeps the
//   same holders (in a new array).
// - in `compatible`, `holders.every(read)` → `holders.some(read)`: a writer never holds beside another holder (the
//   property test checks it), so for a non-empty table "all readers" and "some reader" are the same.
// - in `grant`, `holders.length === 0` → `false`: pushing onto the empty array gives the same holders (the literal
//   only saves the spare slots of a push).
export default target('lock-table', 'actors/mutex/lock-table.ts', 'test/actors/lock-table.test.ts');
