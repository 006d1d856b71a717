import type { Clock, TimerHandle } from './clock.ts';

/**
 * `p`, or a rejection with `onTimeout()` if it has not settled within `ms` of `clock` (`infinity`: no deadline).
 * The one way mware bounds a wait: a start, a graceful stop, a liveness ping, a whole node's shutdown.
 */
export function withDeadline<T>(
  p: PromiseLike<T>,
  ms: number | 'infinity',
  clock: Clock,
  onTimeout: () => Error,
): Promise<T> {
  if (ms === 'infinity') return Promise.resolve(p);
  return new Promise<T>((resolve, reject) => {
    const t: TimerHandle = clock.setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clock.clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(t);
        reject(e);
      },
    );
  });
}
