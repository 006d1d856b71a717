import type { Clock } from '../supervision/clock.ts';

/**
 * How long a holder may act on its lease, by its own monotonic clock. A command that created or extended the lease
 * was *sent* at some instant; Redis ran it later, so the lease lasts at least `ttl` from the sending: the holder
 * counts from there and stops a `margin` earlier still (clock rates differ, a check and the action it guards are
 * not one instant). Nothing here trusts a timer: `valid()` reads the clock at the moment of the question, so a
 * process that was stalled (SIGSTOP, a long GC, a blocked event loop) finds its term over as soon as it runs again,
 * before any timer that was due during the stall has fired.
 */
export class LeaseTerm {
  private actUntil = -Infinity;

  constructor(
    private readonly clock: Clock,
    readonly ttlMs: number,
    readonly marginMs: number,
  ) {
    if (!(marginMs > 0 && marginMs < ttlMs)) throw new RangeError('the margin must be within the lease time');
  }

  /** The lease was created or extended by a command sent at `sentAt` (monotonic ms). */
  confirm(sentAt: number): void {
    this.actUntil = Math.max(this.actUntil, sentAt + this.ttlMs - this.marginMs);
  }

  /** True while the holder may act as active. */
  valid(): boolean {
    return this.clock.now() < this.actUntil;
  }

  /** Milliseconds left to act (0 when over). */
  remaining(): number {
    return Math.max(0, this.actUntil - this.clock.now());
  }

  end(): void {
    this.actUntil = -Infinity;
  }
}

/** The margin a holder keeps before its lease could expire: a fifth of it, at least 100 ms. */
export function leaseMargin(ttlMs: number): number {
  return Math.min(ttlMs / 2, Math.max(100, ttlMs / 5));
}
