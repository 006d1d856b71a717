import { target } from './stryker.base.mjs';

// Last run (2026-12-06, after in-memory actors became LocalActors): 96.69 % (423 mutants, 14 survivors), about
// 6 minutes.
// The survivors are equivalent mutants (no observable change), or guards of states no caller reaches:
// - stop(): `new Error('shutdown timeout')` → `new Error('')`: the error is compared by identity, never shown.
// - stop(): `if (err !== late) throw err` → `if (false)`: the stop work only rejects if a child's stop rejects, and
//   no incarnation's stop does (ActorIncarnation catches its own; Supervisor rethrows only what its children threw).
// - kill(): `if (this.ended) return` → `if (false)`: killing an ended supervisor again changes nothing (its children
//   have no incarnation left and `finish` keeps the first end).
// - requireRunning(): `state !== 'starting'` → `true` (and its string → ''): operations wait in the queue behind
//   start(), so they can find the supervisor 'starting' only if called before start(), which nothing does.
// - remove(): `if (i >= 0)` → `true` and `if (byId.get(r.id) === r)` → `true`: remove() is only called once per
//   record, while it is in the list and under its id.
// - startStopped(): the refusal's message → ``: the tests check the refusal's class and code; the text is for
//   people.
// - handleExit(): `r.startedAt !== undefined` → `true`: with startedAt undefined the subtraction is NaN and the
//   comparison false anyway.
// - escalate(): `reason.kind === 'failed' ? reason.error : undefined` → `reason.error`: other exit reasons carry no
//   error, so it is undefined either way.
// - autoShutdown(): `autoShutdown === 'all_significant'` → `true`, `autoShutdown === 'never'` → `false` (and its
//   string → ''): with 'never', `done` is false and the function returns on `!done`; with 'any_significant' `done`
//   is already true.
// - beginStopping(): `if (running || starting)` → `if (true)`: it is only called running, starting or stopping.
export default target('supervisor', 'src/supervision/supervisor.ts', 'test/supervision/supervisor.test.ts');
