import type { Clock, TimerHandle } from '../supervision/clock.ts';
import type { StateAccess } from '../actor-system/incarnation.ts';
import type { Log } from '../log/log.ts';
import type { StateMode } from '../../topology/schema.ts';
import type { StateStore } from './store.ts';

/**
 * The role's `state_mode` applied to actor state (01-topology.md "Saved state"):
 * - transactional: a save resolves once the store has it durably, so the actor acknowledges nothing unsaved;
 * - periodic: a save is kept in memory and written every `periodMs` and on clean shutdown;
 * - none: nothing is kept; actors start empty.
 * Every write carries the node's current fencing epoch.
 */
export interface Persistence extends StateAccess {
  /** Writes whatever periodic mode still holds. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createPersistence(
  mode: StateMode,
  store: StateStore,
  epoch: () => number,
  clock: Clock,
  log: Log,
  periodMs = 2_000,
): Persistence {
  switch (mode) {
    case 'transactional':
      return {
        durable: true,
        load: async (key) => (await store.load(key))?.value,
        save: (key, value) => store.save(key, value, epoch()),
        delete: (key) => store.delete(key, epoch()),
        keys: (prefix) => store.keys(prefix),
        flush: async () => undefined,
        close: async () => undefined,
      };
    case 'periodic':
      return new PeriodicPersistence(store, epoch, clock, log, periodMs);
    case 'none':
      return {
        durable: false,
        load: async () => undefined,
        save: async () => undefined,
        delete: async () => undefined,
        keys: async () => [],
        flush: async () => undefined,
        close: async () => undefined,
      };
    default: {
      const never: never = mode;
      throw new Error(`unknown state_mode ${String(never)}`);
    }
  }
}

/** A deletion waiting for the next periodic write. */
const DELETED = Symbol('deleted');

class PeriodicPersistence implements Persistence {
  readonly durable = false;
  private readonly dirty = new Map<string, unknown>();
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly store: StateStore,
    private readonly epoch: () => number,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly periodMs: number,
  ) {}

  async load(key: string): Promise<unknown> {
    if (!this.dirty.has(key)) return (await this.store.load(key))?.value;
    const v = this.dirty.get(key);
    return v === DELETED ? undefined : v;
  }

  async keys(prefix: string): Promise<string[]> {
    const keys = new Set(await this.store.keys(prefix));
    for (const [k, v] of this.dirty) {
      if (!k.startsWith(prefix)) continue;
      if (v === DELETED) keys.delete(k);
      else keys.add(k);
    }
    return [...keys];
  }

  async delete(key: string): Promise<void> {
    return this.save(key, DELETED);
  }

  async save(key: string, value: unknown): Promise<void> {
    this.dirty.set(key, value);
    if (this.timer === undefined && !this.closed) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.flush().catch((err: unknown) => this.log.error({ err }, 'periodic state snapshot failed'));
      }, this.periodMs);
    }
  }

  async flush(): Promise<void> {
    const entries = [...this.dirty];
    this.dirty.clear();
    try {
      await Promise.all(
        entries.map(([k, v]) =>
          v === DELETED ? this.store.delete(k, this.epoch()) : this.store.save(k, v, this.epoch()),
        ),
      );
    } catch (err) {
      // Keep what could not be written for the next attempt, unless a newer value replaced it meanwhile.
      for (const [k, v] of entries) if (!this.dirty.has(k)) this.dirty.set(k, v);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.flush();
  }
}
