import type { TimerHandle } from '../../src/supervision/clock.ts';
import { z } from 'zod';
import { defineActor } from '../../src/actor-system/kind.ts';
import { MutexBadRequest, MutexStaleToken } from './errors.ts';
import type { FencingTokens } from './fencing-tokens.ts';
import type { LockMode, LockState } from './lock-table.ts';
import { LockTable } from './lock-table.ts';
import type { LockReply, LockRequest, MutexProtocol } from './protocol.ts';
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
  create(args, ctx) {
    const { clock } = ctx;
    const idleMs = args.idleMs ?? MUTEX_DEFAULTS.idleMs;
    const restored = ctx.state.restored;
    for (const h of restored?.holders ?? []) args.tokens.observe(args.key, h.token);
    const table = new LockTable<Ticket>(() => args.tokens.next(args.key, args.epoch), restored);
    let expiryTimer: TimerHandle | undefined;
    let expiryAt = Infinity;
    let idleTimer: TimerHandle | undefined;
    let lastActive = clock.now();

    /**
     * Saves the table. Returns what must complete before the change is acknowledged (only under a durable
     * state_mode). A change that cannot be saved must not stand: the actor fails and restarts from the last
     * saved state.
     */
    const persist = (): Promise<void> | undefined => {
      const saved = table.holders.length > 0 ? ctx.state.save(table.state()) : ctx.state.clear();
      saved.catch((err: unknown) => ctx.fail(err));
      return ctx.state.durable ? saved : undefined;
    };

    const answer = <T>(wait: Promise<void> | undefined, value: T): T | Promise<T> =>
      wait ? wait.then(() => value) : value;

    /** After a release: grant what can now be granted, save, then answer the newly granted waiters. */
    const settle = (): Promise<void> | undefined => {
      const granted = table.promote(clock.wallNow());
      schedule();
      const wait = persist();
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
    };

    /**
     * Arms the expiry timer for the earliest hold (only when that moves earlier) and the idle check. A new grant
     * passes its own expiry: only it can have moved the earliest one.
     */
    const schedule = (next = table.nextExpiry()) => {
      lastActive = clock.now();
      if (next !== undefined && next < expiryAt) {
        if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer);
        expiryAt = next;
        expiryTimer = clock.setTimeout(onExpiry, next - clock.wallNow());
      }
      if (!table.idle) return;
      if (args.pressure?.() === true) stopWhenSettled();
      else if (idleTimer === undefined) idleTimer = clock.setTimeout(onIdleCheck, idleMs);
    };

    /** Under pressure: stop once the current turn (the reply being sent, a save under way) is done. */
    let stopping = false;
    const stopWhenSettled = () => {
      if (stopping) return;
      stopping = true;
      queueMicrotask(() => {
        stopping = false;
        if (table.idle) ctx.stop();
      });
    };

    const onExpiry = () => {
      expiryTimer = undefined;
      expiryAt = Infinity;
      if (table.expire(clock.wallNow()).length > 0) void settle()?.catch(() => undefined);
      else schedule();
    };

    const onIdleCheck = () => {
      idleTimer = undefined;
      if (!table.idle) return;
      const quiet = clock.now() - lastActive;
      if (quiet >= idleMs) ctx.stop();
      else idleTimer = clock.setTimeout(onIdleCheck, idleMs - quiet);
    };

    // Holds may have expired while no incarnation ran.
    if (table.expire(clock.wallNow()).length > 0) void settle()?.catch(() => undefined);
    else schedule();

    return {
      handlers: {
        lock: (req) => {
          const { owner, mode, waitMs, holdMs } = checkLock(req);
          const holder = table.tryGrant(owner, mode, holdMs, clock.wallNow());
          if (holder) {
            schedule(holder.expiresAt);
            return answer<LockReply>(persist(), {
              granted: true,
              token: holder.token,
              expires_at: holder.expiresAt,
            });
          }
          lastActive = clock.now();
          if (waitMs === 0) return { granted: false, reason: 'timeout', remaining: table.holdsOf(owner) };
          return new Promise<LockReply>((resolve, reject) => {
            const ticket: Ticket = { resolve, reject, timer: undefined as unknown as TimerHandle };
            const w = table.enqueue(owner, mode, holdMs, clock.now(), clock.now() + waitMs, ticket);
            ticket.timer = clock.setTimeout(() => {
              if (!table.dropWaiter(w.id)) return;
              resolve({ granted: false, reason: 'timeout', remaining: table.holdsOf(owner) });
              // A writer that gave up at the head may have been holding readers back.
              if (table.queue.length > 0) void settle()?.catch(() => undefined);
              else schedule();
            }, waitMs);
          });
        },

        unlock: ({ owner, token }) => {
          if (typeof owner !== 'string' || typeof token !== 'number')
            throw new MutexBadRequest('unlock needs owner (string) and token (number)');
          if (!table.release(owner, token)) {
            throw new MutexStaleToken(
              `token ${token} is not a current hold of "${owner}" on "${args.key}" (released, expired, or never granted)`,
            );
          }
          return answer(settle(), { released: true as const, remaining: table.holdsOf(owner) });
        },

        'release-owner': ({ owner }) => {
          const { released, cancelled } = table.releaseOwner(owner);
          for (const w of cancelled) {
            clock.clearTimeout(w.ticket.timer);
            w.ticket.resolve({ granted: false, reason: 'released' });
          }
          const wait = released > 0 || cancelled.length > 0 ? settle() : undefined;
          return answer(wait, { released, cancelled: cancelled.length });
        },

        reap: () => {
          if (table.idle) stopWhenSettled();
          return table.idle;
        },

        inspect: () => {
          const now = clock.now();
          return {
            key: args.key,
            holders: table.holders.map((h) => ({
              owner: h.owner,
              mode: h.mode,
              token: h.token,
              expires_at: h.expiresAt,
            })),
            waiters: table.queue.map((w) => ({
              owner: w.owner,
              mode: w.mode,
              waited_ms: Math.round(now - w.since),
            })),
          };
        },
      },

      stop() {
        for (const t of [expiryTimer, idleTimer]) if (t !== undefined) clock.clearTimeout(t);
        for (const w of table.queue.splice(0)) {
          clock.clearTimeout(w.ticket.timer);
          w.ticket.resolve({ granted: false, reason: 'stopped' });
        }
      },
    };
  },
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
