import type { TimerHandle } from '../../src/supervision/clock.ts';
import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { MutexBadRequest, MutexStaleToken } from './errors.ts';
import type { FencingTokens } from './fencing-tokens.ts';
import type { LockMode, LockState, TokenSource } from './lock-table.ts';
import { LockTable } from './lock-table.ts';
import type {
  LockReply,
  LockRequest,
  MutexInfo,
  MutexProtocol,
  UnlockReply,
  UnlockRequest,
} from './protocol.ts';
import { MUTEX_DEFAULTS } from './protocol.ts';

/**
 * A critical section: one actor per key, the only place that decides who holds it (06-services.md "Mutex").
 * Under `transactional` every change is saved before it is acknowledged, so the holders and their deadlines
 * survive a restart or takeover; a key nobody holds has its saved state deleted, so the store holds only the keys
 * held now. When nobody holds or waits for a while, the actor stops (at once while its supervisor is near its
 * bound on live keys); the next request brings it back with its saved state.
 *
 * It shares the node's fencing-token sequence and reads the supervisor's pressure, so it runs in the node's
 * process (ACTOR_MODES.mutex).
 */

export interface MutexArgs {
  key: string;
  /** Fencing epoch of the node's leadership: the high part of every token. */
  epoch: number;
  /** The node's token sequence (tokens of a key increase across this actor's incarnations). */
  tokens: FencingTokens;
  /** True while the supervisor of mutexes is near its bound: an idle, unheld actor stops at once. */
  pressure?: () => boolean;
  idleMs?: number;
}

interface Ticket {
  resolve(r: LockReply): void;
  reject(e: unknown): void;
  timer: TimerHandle;
}

export function mutexStateKey(key: string): string {
  return `mutex:${key}`;
}

/**
 * The behaviour of one key. A class: its handlers are one table for all keys, and its timers call its methods, so a
 * key costs its fields rather than a dozen closures (there may be tens of thousands of keys).
 */
class MutexActor implements Behavior<MutexProtocol>, TokenSource {
  private readonly table: LockTable<Ticket>;
  private expiryTimer: TimerHandle | undefined;
  private expiryAt = Infinity;
  /** Armed only while nobody holds or waits: a held key has no idle check to run. */
  private idleTimer: TimerHandle | undefined;
  private lastActive: number;
  /** Under pressure: a stop is due once the current turn is done. */
  private stopping = false;

  constructor(
    private readonly args: MutexArgs,
    private readonly ctx: ActorContext<LockState>,
  ) {
    const restored = ctx.state.restored;
    for (const h of restored?.holders ?? []) args.tokens.observe(args.key, h.token);
    this.table = new LockTable<Ticket>(this, restored);
    this.lastActive = ctx.clock.now();
    // Holds may have expired while no incarnation ran.
    if (this.table.expire(ctx.clock.wallNow()).length > 0) this.settleQuietly();
    else this.schedule();
  }

  get handlers(): Handlers<MutexProtocol> {
    return HANDLERS;
  }

  nextToken(): number {
    return this.args.tokens.next(this.args.key, this.args.epoch);
  }

  static readonly handlers: HandlersOf<MutexProtocol, MutexActor> = {
    lock(req) {
      return this.lock(req);
    },
    unlock(req) {
      return this.unlock(req);
    },
    'release-owner'({ owner }) {
      return this.releaseOwner(owner);
    },
    reap() {
      if (this.table.idle) this.stopWhenSettled();
      return this.table.idle;
    },
    inspect() {
      return this.inspect();
    },
  };

  stop(): void {
    const { clock } = this.ctx;
    for (const t of [this.expiryTimer, this.idleTimer]) if (t !== undefined) clock.clearTimeout(t);
    for (const w of this.table.queue.splice(0)) {
      clock.clearTimeout(w.ticket.timer);
      w.ticket.resolve({ granted: false, reason: 'stopped' });
    }
  }

  private lock(req: LockRequest): LockReply | Promise<LockReply> {
    const { clock } = this.ctx;
    const table = this.table;
    const { owner, mode, waitMs, holdMs } = checkLock(req);
    const holder = table.tryGrant(owner, mode, holdMs, clock.wallNow());
    if (holder) {
      this.schedule(holder.expiresAt);
      return answer<LockReply>(this.persist(), {
        granted: true,
        token: holder.token,
        expires_at: holder.expiresAt,
      });
    }
    this.lastActive = clock.now();
    if (waitMs === 0) return { granted: false, reason: 'timeout', remaining: table.holdsOf(owner) };
    return new Promise<LockReply>((resolve, reject) => {
      const ticket: Ticket = { resolve, reject, timer: undefined as unknown as TimerHandle };
      const w = table.enqueue(owner, mode, holdMs, clock.now(), clock.now() + waitMs, ticket);
      ticket.timer = clock.setTimeout(() => {
        if (!table.dropWaiter(w.id)) return;
        resolve({ granted: false, reason: 'timeout', remaining: table.holdsOf(owner) });
        // A writer that gave up at the head may have been holding readers back.
        if (table.queue.length > 0) this.settleQuietly();
        else this.schedule();
      }, waitMs);
    });
  }

  private unlock({ owner, token }: UnlockRequest): UnlockReply | Promise<UnlockReply> {
    if (typeof owner !== 'string' || typeof token !== 'number')
      throw new MutexBadRequest('unlock needs owner (string) and token (number)');
    if (!this.table.release(owner, token)) {
      throw new MutexStaleToken(
        `token ${token} is not a current hold of "${owner}" on "${this.args.key}" (released, expired, or never granted)`,
      );
    }
    return answer(this.settle(), { released: true as const, remaining: this.table.holdsOf(owner) });
  }

  private releaseOwner(owner: string): ReleaseReply | Promise<ReleaseReply> {
    const { released, cancelled } = this.table.releaseOwner(owner);
    for (const w of cancelled) {
      this.ctx.clock.clearTimeout(w.ticket.timer);
      w.ticket.resolve({ granted: false, reason: 'released' });
    }
    const wait = released > 0 || cancelled.length > 0 ? this.settle() : undefined;
    return answer(wait, { released, cancelled: cancelled.length });
  }

  private inspect(): MutexInfo {
    const now = this.ctx.clock.now();
    return {
      key: this.args.key,
      holders: this.table.holders.map((h) => ({
        owner: h.owner,
        mode: h.mode,
        token: h.token,
        expires_at: h.expiresAt,
      })),
      waiters: this.table.queue.map((w) => ({
        owner: w.owner,
        mode: w.mode,
        waited_ms: Math.round(now - w.since),
      })),
    };
  }

  /**
   * Saves the table. Returns what must complete before the change is acknowledged (only under a durable
   * state_mode). A change that cannot be saved must not stand: the actor fails and restarts from the last
   * saved state.
   */
  private persist(): Promise<void> | undefined {
    const { state } = this.ctx;
    const saved = this.table.holders.length > 0 ? state.save(this.table.state()) : state.clear();
    saved.catch((err: unknown) => this.ctx.fail(err));
    return state.durable ? saved : undefined;
  }

  /** After a release: grant what can now be granted, save, then answer the newly granted waiters. */
  private settle(): Promise<void> | undefined {
    const { clock } = this.ctx;
    const granted = this.table.promote(clock.wallNow());
    this.schedule();
    const wait = this.persist();
    for (const { waiter, holder } of granted) {
      clock.clearTimeout(waiter.ticket.timer);
      const reply: LockReply = {
        granted: true,
        token: holder.token,
        expires_at: holder.expiresAt,
        waited: true,
      };
      if (wait)
        wait.then(
          () => waiter.ticket.resolve(reply),
          (err: unknown) => waiter.ticket.reject(err),
        );
      else waiter.ticket.resolve(reply);
    }
    return wait;
  }

  /** A settle nobody waits for (a timer's): a failed save has already failed the actor. */
  private settleQuietly(): void {
    void this.settle()?.catch(() => undefined);
  }

  /**
   * Arms the expiry timer for the earliest hold (only when that moves earlier; none when nothing is held) and, once
   * nobody holds or waits, the idle check. A new grant passes its own expiry: only it can have moved the earliest.
   */
  private schedule(next = this.table.nextExpiry()): void {
    const { clock } = this.ctx;
    this.lastActive = clock.now();
    if (next === undefined) {
      // Nothing held: no expiry to wait for (an idle key keeps one timer, its idle check).
      if (this.expiryTimer !== undefined) clock.clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
      this.expiryAt = Infinity;
    } else if (next < this.expiryAt) {
      if (this.expiryTimer !== undefined) clock.clearTimeout(this.expiryTimer);
      this.expiryAt = next;
      this.expiryTimer = clock.setTimeout(() => this.onExpiry(), next - clock.wallNow());
    }
    if (!this.table.idle) {
      if (this.idleTimer !== undefined) clock.clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      return;
    }
    if (this.args.pressure?.() === true) this.stopWhenSettled();
    else this.idleTimer ??= clock.setTimeout(() => this.onIdleCheck(), this.idleMs);
  }

  private get idleMs(): number {
    return this.args.idleMs ?? MUTEX_DEFAULTS.idleMs;
  }

  /** Under pressure: stop once the current turn (the reply being sent, a save under way) is done. */
  private stopWhenSettled(): void {
    if (this.stopping) return;
    this.stopping = true;
    queueMicrotask(() => {
      this.stopping = false;
      if (this.table.idle) this.ctx.stop();
    });
  }

  private onExpiry(): void {
    this.expiryTimer = undefined;
    this.expiryAt = Infinity;
    if (this.table.expire(this.ctx.clock.wallNow()).length > 0) this.settleQuietly();
    else this.schedule();
  }

  private onIdleCheck(): void {
    const { clock } = this.ctx;
    this.idleTimer = undefined;
    if (!this.table.idle) return;
    const quiet = clock.now() - this.lastActive;
    if (quiet >= this.idleMs) this.ctx.stop();
    else this.idleTimer = clock.setTimeout(() => this.onIdleCheck(), this.idleMs - quiet);
  }
}
const HANDLERS = MutexActor.handlers;

type ReleaseReply = MutexProtocol['release-owner']['reply'];

function answer<T>(wait: Promise<void> | undefined, value: T): T | Promise<T> {
  return wait ? wait.then(() => value) : value;
}

export const mutexActor = defineActor<MutexProtocol, MutexArgs, LockState>({
  kind: 'mutex',
  moduleUrl: import.meta.url,
  exportName: 'mutexActor',
  stateKey: (args) => mutexStateKey(args.key),
  // Locks are taken and released through the mutex facade (/api/v1/mutex), which tracks each owner's keys for
  // release-owner: here only a look at the holders and waiters.
  messages: {
    inspect: { payload: z.null(), scope: 'read', summary: 'Holders and waiters of the key' },
  },
  create: (args, ctx) => new MutexActor(args, ctx),
});

function checkLock(req: LockRequest): { owner: string; mode: LockMode; waitMs: number; holdMs: number } {
  const owner = req?.owner;
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 256)
    throw new MutexBadRequest('owner must be a non-empty string of at most 256 characters');
  const mode = req.mode ?? 'write';
  if (mode !== 'write' && mode !== 'read')
    throw new MutexBadRequest(`mode must be "write" or "read" (got ${JSON.stringify(mode)})`);
  const waitMs = req.wait_ms ?? 0;
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MUTEX_DEFAULTS.maxWaitMs)
    throw new MutexBadRequest(`wait_ms must be a whole number 0-${MUTEX_DEFAULTS.maxWaitMs}`);
  const holdMs = req.hold_ms ?? MUTEX_DEFAULTS.holdMs;
  if (!Number.isInteger(holdMs) || holdMs < 1 || holdMs > MUTEX_DEFAULTS.maxHoldMs)
    throw new MutexBadRequest(`hold_ms must be a whole number 1-${MUTEX_DEFAULTS.maxHoldMs}`);
  return { owner, mode, waitMs, holdMs };
}
