import type { Clock, TimerHandle } from '../supervision/clock.ts';
import { AskTimeout } from './errors.ts';

/**
 * Requests an actor has taken and not answered yet, on either side of it: the cell (where the handler runs) and
 * the incarnation (in the node, for a process or thread that can die with requests in flight). Each request
 * fails at its deadline — checked by one timer per tracker, not one per request — or when the tracker fails
 * them all; a stop can wait until none is left.
 */

interface Entry {
  reject(e: unknown): void;
  /** Monotonic ms after which the request fails. */
  deadline: number;
  type: string;
}

/** How often requests are checked against their deadlines. */
const SWEEP_MS = 100;

export class InFlight {
  /** Present while a request is in flight: most of the time an actor has none, and an empty Set costs ~150 B. */
  private entries: Set<Entry> | undefined;
  private sweepTimer: TimerHandle | undefined;
  private drainWaiters: (() => void)[] | undefined;

  /** `deadlines: false` where the other side already enforces them (a cell in a forked process or thread). */
  constructor(
    private readonly path: string,
    private readonly clock: Clock,
    private readonly deadlines = true,
  ) {}

  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** Follows `reply` until it settles, its deadline passes, or {@link failAll}; `mapError` sees its rejection. */
  track<T>(
    reply: PromiseLike<T>,
    type: string,
    timeoutMs: number,
    mapError: (e: unknown) => unknown = (e) => e,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { reject, deadline: this.clock.now() + timeoutMs, type };
      (this.entries ??= new Set()).add(entry);
      if (this.deadlines && this.sweepTimer === undefined)
        this.sweepTimer = this.clock.setTimeout(() => this.sweep(), SWEEP_MS);
      reply.then(
        (v) => {
          if (this.remove(entry)) resolve(v);
        },
        (err: unknown) => {
          const e = mapError(err);
          if (this.remove(entry)) reject(e);
        },
      );
    });
  }

  /** Fails every request still in flight with `error`. */
  failAll(error: unknown): void {
    const entries = this.entries;
    this.entries = undefined;
    this.settledAll();
    if (entries) for (const entry of entries) entry.reject(error);
  }

  /** Resolves once no request is in flight. */
  drained(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drainWaiters ??= []).push(resolve));
  }

  private remove(entry: Entry): boolean {
    if (this.entries?.delete(entry) !== true) return false;
    if (this.entries.size === 0) {
      this.entries = undefined;
      this.settledAll();
    }
    return true;
  }

  private settledAll(): void {
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    const waiters = this.drainWaiters;
    if (waiters === undefined) return;
    this.drainWaiters = undefined;
    for (const w of waiters) w();
  }

  private sweep(): void {
    this.sweepTimer = undefined;
    const now = this.clock.now();
    for (const entry of this.entries ?? []) {
      if (entry.deadline <= now) {
        this.remove(entry);
        entry.reject(new AskTimeout(`${this.path}: no reply to "${entry.type}" in time`));
      }
    }
    if (this.size > 0) this.sweepTimer = this.clock.setTimeout(() => this.sweep(), SWEEP_MS);
  }
}
