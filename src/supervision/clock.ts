/**
 * Time, injected. Supervisors, backoff, intensity windows, deadlines and actors read time and set timers only
 * through a Clock, so tests drive them deterministically with {@link ManualClock}.
 */
export interface Clock {
  /** Monotonic milliseconds (never jumps back); for deadlines and windows. */
  now(): number;
  /** Wall-clock milliseconds since the epoch; for timestamps that outlive the process. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly __timer: true;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
};

interface ManualTimer extends TimerHandle {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; timers fire in time order during {@link advance}. */
export class ManualClock implements Clock {
  private t: number;
  private readonly wallOffset: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = 0, wallStart = Date.UTC(2026, 0, 1)) {
    this.t = start;
    this.wallOffset = wallStart - start;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.t + this.wallOffset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = {
      __timer: true,
      at: this.t + Math.max(0, ms),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as ManualTimer).cancelled = true;
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers it yields to the event loop so that
   * promise continuations started by one timer run before the next fires, as they would in real time.
   */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      await flushMicrotasks();
      this.timers = this.timers.filter((x) => !x.cancelled);
      const next = this.timers.reduce<ManualTimer | undefined>(
        (a, b) => (a === undefined || b.at < a.at || (b.at === a.at && b.seq < a.seq) ? b : a),
        undefined,
      );
      if (next === undefined || next.at > until) break;
      this.t = next.at;
      next.cancelled = true;
      next.fn();
    }
    this.t = until;
    await flushMicrotasks();
  }
}

/** Lets queued promise continuations (and I/O callbacks already due) run. */
export async function flushMicrotasks(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
