import type { BackoffOptions } from './spec.ts';

/**
 * Delay before the n-th consecutive restart of one child (n ≥ 1): the first is immediate, as in OTP; later ones
 * grow exponentially up to `maxMs`, with jitter (Akka's restartWithBackoff), so a dead peer is not hammered.
 */
export function backoffDelay(n: number, o: BackoffOptions, random: () => number): number {
  if (n <= 1) return 0;
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** (n - 2));
  const jittered = base * (1 + o.jitter * (random() * 2 - 1));
  return Math.max(0, Math.round(Math.min(o.maxMs, jittered)));
}
