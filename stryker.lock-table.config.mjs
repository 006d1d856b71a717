import { target } from './stryker.base.mjs';

// Last run: 96.15 % (130 mutants: 124 killed, 1 timeout, 5 survivors), about 2.5 minutes.
// The survivors are equivalent mutants (no observable change):
// - `holders: Holder[] = []` → `["Stryker was here"]`: the constructor always assigns `holders`.
// - `nextWaiterId++` → `nextWaiterId--`: waiter ids stay unique (1, 0, -1, …); uniqueness is all they are used for.
// - in `expire`, `if (expired.length > 0)` → `if (true)` and → `>= 0`: filtering when nothing expired keeps the
//   same holders (in a new array).
// - in `compatible`, `holders.every(read)` → `holders.some(read)`: a writer never holds beside another holder (the
//   property test checks it), so for a non-empty table "all readers" and "some reader" are the same.
export default target('lock-table', 'actors/mutex/lock-table.ts', 'test/actors/lock-table.test.ts');
