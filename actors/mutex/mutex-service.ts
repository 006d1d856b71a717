import type { ActorRuntime } from '../../src/actor-system/actor-child.ts';
import { actorChild } from '../../src/actor-system/actor-child.ts';
import { ActorUnavailable } from '../../src/actor-system/errors.ts';
import type { Log } from '../../src/log/log.ts';
import type { ChildRecord } from '../../src/supervision/child.ts';
import type { ActorMode } from '../../src/supervision/events.ts';
import type { ChildSpec } from '../../src/supervision/spec.ts';
import type { Supervisor } from '../../src/supervision/supervisor.ts';
import { MutexBadRequest, MutexUnavailable } from './errors.ts';
import type { MutexStats } from './stats.ts';
import { newMutexStats } from './stats.ts';
import { FencingTokens } from './fencing-tokens.ts';
import type { Interest } from './owner-keys.ts';
import { OwnerKeys } from './owner-keys.ts';
import type { LockState } from './lock-table.ts';
import { mutexActor, mutexStateKey } from './mutex-actor.ts';
import type { LockReply, LockRequest, MutexInfo, UnlockReply, UnlockRequest } from './protocol.ts';
import type { Clock, TimerHandle } from '../../src/supervision/clock.ts';

/**
 * The mutex facade used by the API and the shell: routes each key to its MutexActor under `/mutexes`, creating
 * the actor on first use, and remembers which keys each owner touches so `release-owner` (a script handler
 * ended) reaches every one of them without asking every mutex.
 *
 * It also keeps the node's live keys bounded (`maxKeys`, the supervisor's `maxChildren`): near the bound
 * ({@link PRESSURE} of it) idle, unheld mutex actors stop at once instead of after `idleMs`, and those already
 * idle are asked to stop; at the bound a lock on a new key is refused with SupervisorFull (503), never queued
 * without end. A storm of distinct keys therefore costs bounded memory.
 */

export interface MutexServiceDeps {
  runtime: ActorRuntime;
  mode: ActorMode;
  epoch: () => number;
  /** True while this node may act as its group's active instance (its lease term, read now). */
  leading: () => boolean;
  /** Whether this node's group owns the key (rendezvous placement over the site's groups). */
  ownsKey: (key: string) => boolean;
  log: Log;
  clock: Clock;
  idleMs?: number;
  /** Live mutex actors at most (default 10,000). */
  maxKeys?: number;
}

/** The share of `maxKeys` past which idle keys are freed at once. */
export const PRESSURE = 0.8;
/** Idle keys are asked to stop at most this often while under pressure. */
const REAP_EVERY_MS = 1_000;

/** Margin beyond a lock's own wait before the ask itself gives up. */
const ASK_MARGIN_MS = 5_000;

export class MutexService {
  private supervisor: Supervisor | undefined;
  private readonly owners = new OwnerKeys();
  readonly stats: MutexStats = newMutexStats();
  private sweepTimer: TimerHandle | undefined;
  /** Set once the node demotes: nothing is swept any more, so no timer outlives the service. */
  private detached = false;
  /** The node's token sequence: shared by every incarnation of every key. */
  private readonly tokens = new FencingTokens();
  readonly maxKeys: number;
  private lastReap = -Infinity;

  constructor(private readonly deps: MutexServiceDeps) {
    this.maxKeys = deps.maxKeys ?? 10_000;
  }

  /** True while live keys are near the bound: idle actors stop at once. */
  readonly underPressure = (): boolean =>
    (this.supervisor?.children().length ?? 0) >= this.maxKeys * PRESSURE;

  /** Called with each new `/mutexes` supervisor (after a start or restart of the subtree). */
  attach(s: Supervisor): void {
    this.supervisor = s;
    this.detached = false;
  }

  detach(): void {
    this.supervisor = undefined;
    this.detached = true;
    if (this.sweepTimer !== undefined) this.deps.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Child specs for keys whose saved state has live holders: their expiry must run even with no requests. */
  async restoredChildren(): Promise<ChildSpec[]> {
    const specs: ChildSpec[] = [];
    const state = this.deps.runtime.state;
    for (const stateKey of await state.keys('mutex:')) {
      const saved = (await state.load(stateKey)) as LockState | undefined;
      if (!saved || saved.holders.length === 0) continue;
      const key = stateKey.slice('mutex:'.length);
      for (const h of saved.holders)
        this.interest(h.owner, key).until = Math.max(this.interest(h.owner, key).until, h.expiresAt);
      specs.push(this.spec(key));
    }
    return specs;
  }

  async lock(key: string, req: LockRequest): Promise<LockReply> {
    checkKey(key);
    const waitMs = typeof req?.wait_ms === 'number' && req.wait_ms > 0 ? req.wait_ms : 0;
    const owner = typeof req?.owner === 'string' ? req.owner : undefined;
    // Noted before the request is sent, so a release-owner that races a waiting lock cancels it.
    const interest = owner !== undefined ? this.interest(owner, key) : undefined;
    if (interest) interest.pending++;
    let reply: LockReply | undefined;
    try {
      reply = (await this.ask(key, 'lock', req, waitMs + ASK_MARGIN_MS)) as LockReply;
      return reply;
    } finally {
      if (reply?.granted) {
        if (reply.waited) this.stats.grantedAfterWait++;
        else this.stats.grantedAtOnce++;
      } else if (reply?.reason === 'timeout') this.stats.timeouts++;
      if (reply && (reply.granted ? reply.waited : waitMs > 0)) this.stats.queued++;
      if (interest && owner !== undefined) {
        interest.pending--;
        if (reply?.granted) interest.until = Math.max(interest.until, reply.expires_at);
        else this.forgetIfDone(owner, key, reply?.remaining ?? 0);
      }
    }
  }

  async unlock(key: string, req: UnlockRequest): Promise<UnlockReply> {
    checkKey(key);
    const reply = (await this.ask(key, 'unlock', req, ASK_MARGIN_MS)) as UnlockReply;
    this.forgetIfDone(req.owner, key, reply.remaining);
    return reply;
  }

  /** Releases every hold and cancels every wait of `owner`, on every key it touched. */
  async releaseOwner(owner: string): Promise<{ released: number; cancelled: number; keys: number }> {
    if (typeof owner !== 'string' || owner.length === 0)
      throw new MutexBadRequest('owner must be a non-empty string');
    const keys = this.owners.take(owner);
    let released = 0;
    let cancelled = 0;
    await Promise.all(
      keys.map(async (key) => {
        const r = (await this.ask(key, 'release-owner', { owner }, ASK_MARGIN_MS)) as {
          released: number;
          cancelled: number;
        };
        released += r.released;
        cancelled += r.cancelled;
      }),
    );
    return { released, cancelled, keys: keys.length };
  }

  async inspect(key: string): Promise<MutexInfo> {
    checkKey(key);
    const record = this.live().child(childId(key));
    if (!record) return { key, holders: [], waiters: [] };
    return (await record.ask('inspect', null, ASK_MARGIN_MS)) as MutexInfo;
  }

  /** Keys with a live MutexActor on this node. */
  liveKeys(): string[] {
    return (this.supervisor?.children() ?? []).map((r) => decodeURIComponent(r.id));
  }

  private live(): Supervisor {
    const s = this.supervisor;
    if (!s?.running)
      throw new MutexUnavailable(
        'the mutex service is not running on this node (it is not the active instance of its group)',
      );
    return s;
  }

  private async ask(key: string, type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.deps.ownsKey(key))
      throw new MutexUnavailable(`mutex "${key}" belongs to another group of this site`);
    // A grant is a side effect only the active instance may make: checked against the lease's term, now.
    if (!this.deps.leading())
      throw new MutexUnavailable('this node is not the active instance of its group now; retry');
    // A record can be forgotten between lookup and delivery (its actor went idle); look it up again then.
    for (let attempt = 0; ; attempt++) {
      const s = this.live();
      const record: ChildRecord = s.child(childId(key)) ?? (await this.create(s, key));
      try {
        return await record.ask(type, payload, timeoutMs);
      } catch (err) {
        if (!(err instanceof ActorUnavailable && record.removed) || attempt >= 2) throw err;
      }
    }
  }

  /** Starts the actor of a new key; near the bound, first asks idle keys to make room. */
  private async create(s: Supervisor, key: string): Promise<ChildRecord> {
    if (this.underPressure()) this.reapIdle(s);
    return s.ensureChild(this.spec(key));
  }

  /** Asks every live key to stop if it is idle (at most once per REAP_EVERY_MS). */
  private reapIdle(s: Supervisor): void {
    const now = this.deps.clock.now();
    if (now - this.lastReap < REAP_EVERY_MS) return;
    this.lastReap = now;
    for (const r of s.children())
      if (r.state === 'running') r.ask('reap', null, ASK_MARGIN_MS).then(undefined, () => undefined);
  }

  private spec(key: string): ChildSpec {
    return actorChild(this.deps.runtime, {
      id: childId(key),
      kind: mutexActor,
      args: {
        key,
        epoch: this.deps.epoch(),
        tokens: this.tokens,
        pressure: this.underPressure,
        idleMs: this.deps.idleMs,
      },
      mode: this.deps.mode,
      restart: 'transient',
      shutdown: 2_000,
      reviveOnMessage: true,
    });
  }

  private interest(owner: string, key: string): Interest {
    const i = this.owners.interest(owner, key);
    this.scheduleSweep();
    return i;
  }

  private forgetIfDone(owner: string, key: string, remaining: number): void {
    const i = this.owners.get(owner, key);
    if (!i || i.pending > 0 || remaining > 0) return;
    this.owners.forget(owner, key);
  }

  /** Forgets interests in holds that have expired (their owner never unlocked or ended). */
  private scheduleSweep(): void {
    if (this.sweepTimer !== undefined || this.detached) return;
    this.sweepTimer = this.deps.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      const now = this.deps.clock.wallNow();
      this.owners.sweep((i) => i.pending === 0 && i.until < now);
      if (this.owners.size > 0) this.scheduleSweep();
    }, 60_000);
  }

  /** Owners the service currently tracks (for inspection and tests). */
  trackedOwners(): number {
    return this.owners.size;
  }
}

function childId(key: string): string {
  return encodeURIComponent(key);
}

function checkKey(key: string): void {
  // eslint-disable-next-line no-control-regex
  if (typeof key !== 'string' || key.length === 0 || key.length > 256 || /[\u0000-\u001f]/.test(key)) {
    throw new MutexBadRequest('a mutex key is 1-256 printable characters');
  }
}

export { mutexStateKey };
