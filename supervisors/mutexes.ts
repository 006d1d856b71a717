import type { MutexService } from '../actors/mutex/mutex-service.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';

/**
 * `/mutexes`: the dynamic supervisor of MutexActors, one per live key, created on first use, stopped when idle.
 * Keys whose saved state has holders start with it, so their holds expire on time. Keys are independent: many may
 * fail at once without the whole service being at fault.
 */
export function mutexesChild(mutex: MutexService, restored: ChildSpec[]): ChildSpec {
  return supervisorChild({
    id: 'mutexes',
    kind: 'mutex-supervisor',
    flags: { strategy: 'simple_one_for_one', intensity: 50, periodMs: 10_000, maxChildren: mutex.maxKeys },
    children: restored,
    onStart: (s) => mutex.attach(s),
  });
}
