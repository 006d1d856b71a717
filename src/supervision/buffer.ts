import type { Clock, TimerHandle } from './clock.ts';
import type { BufferOptions } from './spec.ts';

/**
 * Messages held for a child that is starting or restarting: delivered in order to the new incarnation, or failed
 * with a clear error when the buffer is full, the wait is too long, or the child does not come back. Never hung.
 */

export interface HeldMessage {
  type: string;
  payload: unknown;
  timeoutMs: number;
  /** Monotonic time the message was taken. */
  heldAt: number;
  /** Monotonic time after which the message fails. */
  deadline: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export class PendingBuffer {
  private items: HeldMessage[] = [];
  private timer: TimerHandle | undefined;
  /** The deadline the timer is armed for. */
  private armedFor = Infinity;

  constructor(
    private readonly opts: BufferOptions,
    private readonly clock: Clock,
    private readonly onExpire: (m: HeldMessage) => unknown,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Holds a message; undefined when the buffer is full. */
  hold(type: string, payload: unknown, timeoutMs: number): Promise<unknown> | undefined {
    if (this.items.length >= this.opts.max) return undefined;
    return new Promise((resolve, reject) => {
      const heldAt = this.clock.now();
      const deadline = heldAt + Math.min(timeoutMs, this.opts.maxWaitMs);
      this.items.push({ type, payload, timeoutMs, heldAt, deadline, resolve, reject });
      this.arm();
    });
  }

  /** Takes every held message (oldest first), e.g. to deliver them to a new incarnation. */
  takeAll(): HeldMessage[] {
    const out = this.items;
    this.items = [];
    this.disarm();
    return out;
  }

  failAll(error: (m: HeldMessage) => unknown): void {
    for (const m of this.takeAll()) m.reject(error(m));
  }

  /** Arms one timer for the earliest deadline held; a message held with an earlier one re-arms it. */
  private arm(): void {
    if (this.items.length === 0) return;
    const next = Math.min(...this.items.map((m) => m.deadline));
    if (this.timer !== undefined) {
      if (next >= this.armedFor) return;
      this.disarm();
    }
    this.armedFor = next;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      const now = this.clock.now();
      const expired = this.items.filter((m) => m.deadline <= now);
      this.items = this.items.filter((m) => m.deadline > now);
      for (const m of expired) m.reject(this.onExpire(m));
      this.arm();
    }, next - this.clock.now());
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
