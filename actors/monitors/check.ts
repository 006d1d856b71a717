import type { SerializedError } from '../../src/errors.ts';
import type { Observation, Transition } from './conditions.ts';

/**
 * One monitor kind's work: a round of probes turned into observations, and what the kind does when a condition is
 * raised or cleared (the sg monitor deletes a lost gateway's registrations). The actor around it owns the timing,
 * the confirmation and the notices.
 */
export interface Check {
  round(): Promise<Observation[]>;
  /** Called after every round with what it raised and cleared (possibly nothing). */
  after?(transitions: readonly Transition[]): Promise<void>;
  /** Kind-specific facts for the status (numbers, names; never a secret). */
  detail?(): Record<string, unknown>;
  /** A failure of the kind's own action (not of a watched thing), shown as the actor's last error. */
  problem?(): SerializedError | undefined;
}
