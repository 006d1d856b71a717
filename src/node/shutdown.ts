import type { Log } from '../log/log.ts';
import { serializeError } from '../errors.ts';
import type { Clock } from '../supervision/clock.ts';
import { withDeadline } from '../supervision/deadline.ts';

/**
 * The stop sequence of a node (02-runtime.md "Node lifecycle"), as data: each step runs after the previous one
 * ended, whatever the previous one's outcome, so a failing step never leaves a later one undone. The order is the
 * point: side effects stop before state is flushed, the tree stops before the store closes, and the data directory
 * is given up last of all — until the store is closed this node still writes there, and no other may take it.
 */

export interface StopStep {
  name: string;
  run(): Promise<void> | void;
  /** Bounded steps are cut short past the sequence's deadline by `onLate` (the tree is killed). */
  bounded?: boolean;
}

/** How long the bounded part of a stop may take before what is left is cut short. */
export const STOP_TIMEOUT_MS = 30_000;

export async function runStopSteps(
  steps: readonly StopStep[],
  o: { clock: Clock; log: Log; timeoutMs?: number; onLate: () => void },
): Promise<void> {
  const deadline = o.clock.now() + (o.timeoutMs ?? STOP_TIMEOUT_MS);
  for (const step of steps) {
    o.log.debug({ step: step.name }, 'stop step');
    const late = new Error('late');
    try {
      const work = Promise.resolve(step.run());
      if (step.bounded) await withDeadline(work, Math.max(0, deadline - o.clock.now()), o.clock, () => late);
      else await work;
    } catch (err) {
      if (err === late) {
        o.log.error(
          `stop took longer than ${o.timeoutMs ?? STOP_TIMEOUT_MS} ms at "${step.name}"; killing what is left`,
        );
        o.onLate();
      } else o.log.error({ err: serializeError(err), step: step.name }, 'error while stopping');
    }
  }
}
