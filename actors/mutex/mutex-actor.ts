import type { TimerHandle } from '../../supervisors/clock.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { MutexBadRequest, MutexStaleToken } from './errors.ts';
import type { LockMode, LockState } from './lock-table.ts';
import { LockTable } from './lock-table.ts';
import type { LockReply, LockRequest, MutexProtocol } from './protocol.ts';
import { MUTEX_DEFAULTS } from './protocol.ts';

/**
 * A critical section: one actor per key, the only place that decides who holds it (06-services.md "Mutex").
 * Every change is saved before it is acknowledged (under `transactional`), so the holders and their deadlines
 * survive a restart or takeover. When nobody holds or waits for a while, the actor stops; the next request
 * brings it back with its saved state.
 */

export interface MutexArgs {
  key: string;
  /** Fencing epoch of the node's leadership: the high part of every token. */
  epoch: number;
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
  create(args, ctx) {
    const { clock } = ctx;
    const table = new LockTable<Ticket>(args.epoch, ctx.state.restored);
    let expiryTimer: TimerHandle | undefined;
    let idleTimer: TimerHandle | undefined;

    const save = () => ctx.state.save(table.state());

    /** After any change: grant what can be granted, save, then answer the newly granted waiters. */
    const settle = (): Promise<void> => {
      const granted = table.promote(clock.wallNow());
      schedule();
      const saved = save();
      for (const { waiter, holder } of granted) {
        clock.clearTimeout(waiter.ticket.timer);
        saved.then(
          () => waiter.ticket.resolve({ granted: true, token: holder.token, expires_at: holder.expiresAt }),
          (err: unknown) => waiter.ticket.reject(err),
        );
      }
      // A grant that cannot be saved must not stand: fail, and restart from the last saved state.
      saved.catch((err: unknown) => ctx.fail(err));
      return saved;
    };

    const schedule = () => {
      if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer);
      expiryTimer = undefined;
      const next = table.nextExpiry();
      if (next !== undefined) {
        expiryTimer = clock.setTimeout(() => {
          expiryTimer = undefined;
          if (table.expire(clock.wallNow()).length > 0) void settle().catch(() => undefined);
          else schedule();
        }, next - clock.wallNow());
      }
      if (idleTimer !== undefined) clock.clearTimeout(idleTimer);
      idleTimer = undefined;
      if (table.idle) {
        idleTimer = clock.setTimeout(() => {
          if (table.idle) ctx.stop();
        }, args.idleMs ?? MUTEX_DEFAULTS.idleMs);
      }
    };

    // Holds may have expired while no incarnation ran.
    if (table.expire(clock.wallNow()).length > 0) void settle().catch(() => undefined);
    else schedule();

    return {
      handlers: {
        lock: async (req) => {
          const { owner, mode, waitMs, holdMs } = checkLock(req);
          const now = clock.wallNow();
          const holder = table.tryGrant(owner, mode, holdMs, now);
          if (holder) {
            schedule();
            await save();
            return { granted: true, token: holder.token, expires_at: holder.expiresAt };
          }
          if (waitMs === 0) return { granted: false, reason: 'timeout', remaining: table.holdsOf(owner) };
          return new Promise<LockReply>((resolve, reject) => {
            const ticket: Ticket = { resolve, reject, timer: undefined as unknown as TimerHandle };
            const w = table.enqueue(owner, mode, holdMs, clock.now(), clock.now() + waitMs, ticket);
            ticket.timer = clock.setTimeout(() => {
              if (!table.dropWaiter(w.id)) return;
              resolve({ granted: false, reason: 'timeout', remaining: table.holdsOf(owner) });
              // A writer that gave up at the head may have been holding readers back.
              if (table.queue.length > 0) void settle().catch(() => undefined);
              else schedule();
            }, waitMs);
            schedule();
          });
        },

        unlock: async ({ owner, token }) => {
          if (typeof owner !== 'string' || typeof token !== 'number')
            throw new MutexBadRequest('unlock needs owner (string) and token (number)');
          if (!table.release(owner, token)) {
            throw new MutexStaleToken(
              `token ${token} is not a current hold of "${owner}" on "${args.key}" (released, expired, or never granted)`,
            );
          }
          await settle();
          return { released: true, remaining: table.holdsOf(owner) };
        },

        'release-owner': async ({ owner }) => {
          const { released, cancelled } = table.releaseOwner(owner);
          for (const w of cancelled) {
            clock.clearTimeout(w.ticket.timer);
            w.ticket.resolve({ granted: false, reason: 'released' });
          }
          if (released > 0 || cancelled.length > 0) await settle();
          return { released, cancelled: cancelled.length };
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
