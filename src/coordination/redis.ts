import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { MwareRole } from '../../topology/schema.ts';
import { electActive } from '../../topology/placement.ts';
import type { Log } from '../log/log.ts';
import { serializeError } from '../errors.ts';
import type { Clock, TimerHandle } from '../supervision/clock.ts';
import type { CoordinationBackend, CoordinationEvent, CoordinationStatus, Leadership } from './backend.ts';
import { CoordinationClosed } from './errors.ts';
import { CoordinationEvents } from './events.ts';
import type { RedisKeys } from './keys.ts';
import { LeaseTerm, leaseMargin } from './lease-term.ts';
import type { LeaseValue } from './lease-scripts.ts';
import { ACQUIRE, DELETE_IF, parseLease, RENEW } from './lease-scripts.ts';
import { connectedReplicas } from './redis-client.ts';

/**
 * Group leadership over Redis (02-runtime.md "Cluster coordination"): a lease `SET NX PX` carrying a fencing epoch,
 * renewed by compare-and-extend, given up by compare-and-delete.
 *
 * The safety argument, enforced here:
 * 1. A holder acts only while its {@link LeaseTerm} is valid: by its monotonic clock, counted from the *sending* of
 *    the command that created or extended the lease, minus a margin. Redis cannot have expired the lease before
 *    then, so two holders never act at once through Redis' own expiry — also after a stall, since validity is read
 *    from the clock at each side effect (`leading()`), not from a timer.
 * 2. Every acquisition takes a new epoch greater than the counter and than every epoch this node has seen, and
 *    raises the group's fence to it in the same script: a state write carrying an older epoch is refused by Redis.
 * 3. Sentinel may promote a replica that missed the last writes. After an acquisition the holder `WAIT`s for a
 *    replica (when one is connected), so the new epoch and fence survive a failover. If they were lost anyway, the
 *    next acquisition still takes an epoch above the one the previous holder advertised to its peers (point 2's
 *    floor, fed by heartbeats), and the deposed holder finds its lease value gone at its next renewal.
 * Together: no two actives with the same epoch, a newer epoch always wins, and stale writes are fenced.
 *
 * Failover order: a passive member tries only when {@link electActive} names it among the live members (the
 * lowest live order; the current holder keeps it unless `ext.failback`); lower ranks wait `rank × step` first.
 * Silence waits for the lease to expire; a holder whose death is *proven* (its node channel refused by its host's
 * kernel) has its exact lease value deleted at once ({@link provenDead}).
 *
 * Coordination outage (02-runtime.md): when Redis cannot be reached, the holder asks every other member to promise,
 * over the node channel, not to take the lease for a lease time; only if *all* promise does it extend its term,
 * so no member can become active meanwhile, whatever Redis does — a member that cannot be reached, or refuses,
 * ends the active's term at its deadline as usual. When Redis answers again the holder renews, restoring its lease
 * under the same epoch if Redis lost it (see RENEW).
 */

export interface GroupView {
  /** The members that count for the failover order: those heard from recently, this node included. */
  candidates(): ReadonlySet<string>;
  /**
   * True for a member counted among the candidates only because this node started moments ago and has not heard
   * from it yet (it may still be starting). Optional: without it, such a member gets only its rank's head start.
   */
  awaited?(name: string): boolean;
  /**
   * Asks every other member of the group, over the node channel, to promise not to take the lease for `ttlMs`
   * (they are passive and see this node as the active one); true only when all did, within `timeoutMs`.
   */
  confirmStandby(epoch: number, ttlMs: number, timeoutMs: number): Promise<boolean>;
}

export interface RedisCoordinationOptions {
  redis: Redis;
  keys: RedisKeys;
  group: number;
  self: MwareRole;
  members: readonly MwareRole[];
  ttlMs: number;
  renewMs: number;
  clock: Clock;
  log: Log;
  view: GroupView;
}

/** Between two tries of a passive member, and per rank before a lower-ranked member tries a free lease. */
const STEP_MS = 150;

export class RedisCoordination implements CoordinationBackend {
  readonly kind = 'redis' as const;
  private readonly term: LeaseTerm;
  private lease: LeaseValue | undefined;
  private leadership: Leadership | undefined;
  private highestEpoch = 0;
  private renewTimer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private closed = false;
  private lastError: string | undefined;
  private wake: (() => void) | undefined;
  /** The lease of another holder as last read (for routing and the cluster view). */
  private current: LeaseValue | undefined;
  /** Until when (monotonic) this member promised the holder not to take the lease. */
  private promisedUntil = -Infinity;
  /** The term is being kept by the members' promises: Redis is out of reach. */
  private outage = false;
  /** An acquisition is on its way to Redis: no promise can be given now. */
  private acquiring = false;
  private readonly events = new CoordinationEvents();

  constructor(private readonly o: RedisCoordinationOptions) {
    this.term = new LeaseTerm(o.clock, o.ttlMs, leaseMargin(o.ttlMs));
    // The connection's own ups and downs change the health too, between commands.
    o.redis.on('ready', this.reportHealth);
    o.redis.on('close', this.reportHealth);
  }

  /** Waits for this member's turn, takes the lease, and keeps it renewed until released or lost. */
  async acquire(): Promise<Leadership> {
    for (;;) {
      if (this.closed) throw new CoordinationClosed('coordination closed while waiting for leadership');
      const won = await this.tryOnce().catch((err: unknown) => {
        this.noteError(err);
        return undefined;
      });
      if (won) return won;
      await this.pause(STEP_MS);
    }
  }

  private async tryOnce(): Promise<Leadership | undefined> {
    const { redis, keys, group } = this.o;
    if (this.o.clock.now() < this.promisedUntil) return undefined;
    const current = parseLease(await redis.get(keys.lease(group)));
    this.lastError = undefined;
    this.observe(current);
    this.reportHealth();
    if (current && current.holder === this.o.self.name && current.raw !== this.lease?.raw) {
      // A lease in this node's name that this process never took: an earlier run of this node, now dead.
      await this.deleteIf(current.raw);
      return undefined;
    }
    const live = new Set(this.o.view.candidates()).add(this.o.self.name);
    if (current) live.add(current.holder);
    const elected = electActive(this.o.members, live, current?.holder);
    if (current && current.holder !== this.o.self.name) return undefined;
    if (elected !== this.o.self.name) {
      // Not this member's turn while a lower order lives; a free lease is taken in rank order.
      if (current) return undefined;
      await this.pause(this.rank(live) * STEP_MS);
      // A cold start elects the lowest order: a lower member not heard from yet, within the join window, may still be
      // starting, so the free lease is left to it until the window ends (a rank's head start alone is 150 ms, less
      // than a process takes to start on a loaded host). Not trying is always safe; the window bounds the wait.
      if (elected !== undefined && this.o.view.awaited?.(elected) === true) return undefined;
    }
    // A promise given meanwhile (the pause) forbids the attempt; one asked for during it is refused (acquiring).
    if (this.o.clock.now() < this.promisedUntil) return undefined;
    const sentAt = this.o.clock.now();
    const nonce = randomUUID().slice(0, 8);
    this.acquiring = true;
    const [ok, raw] = (await redis
      .eval(
        ACQUIRE,
        3,
        keys.lease(group),
        keys.epoch(group),
        keys.fence(group),
        this.o.self.name,
        nonce,
        String(this.o.ttlMs),
        String(this.highestEpoch),
      )
      .finally(() => (this.acquiring = false))) as [number, string];
    const value = parseLease(raw);
    // Its own new lease is told once this node may act on it (below), not before.
    this.observe(value, ok !== 1);
    if (ok !== 1 || !value) return undefined;
    this.term.confirm(sentAt);
    this.lease = value;
    await this.waitForReplica();
    if (!this.term.valid()) {
      // Acquired, but too late to act on: give it back rather than act on a term already over.
      await this.deleteIf(value.raw).catch(() => undefined);
      this.lease = undefined;
      return undefined;
    }
    this.leadership = { epoch: value.epoch, holder: this.o.self.name, since: this.o.clock.wallNow() };
    this.o.log.info({ epoch: value.epoch }, 'took the group’s lease');
    this.reportLeadership();
    this.scheduleRenewal();
    return this.leadership;
  }

  /** An epoch increment copied to a replica survives a Sentinel failover (point 3 above). */
  private async waitForReplica(): Promise<void> {
    const replicas = await connectedReplicas(this.o.redis).catch(() => 0);
    if (replicas === 0) return;
    const acked = (await this.o.redis.call('WAIT', '1', String(this.o.renewMs))) as number;
    if (acked < 1)
      this.o.log.warn(
        {},
        'no replica confirmed the new epoch in time; the epoch floor still keeps later epochs above it',
      );
  }

  private rank(live: ReadonlySet<string>): number {
    const ordered = [...this.o.members].filter((m) => live.has(m.name)).sort((a, b) => a.order - b.order);
    return Math.max(
      0,
      ordered.findIndex((m) => m.name === this.o.self.name),
    );
  }

  private scheduleRenewal(): void {
    this.renewTimer = this.o.clock.setTimeout(() => void this.renew(), this.o.renewMs);
    if (this.watchdog !== undefined) this.o.clock.clearTimeout(this.watchdog);
    // Fires at the end of the term if no renewal extended it; late or not, it checks the clock, not itself.
    this.watchdog = this.o.clock.setTimeout(() => {
      this.watchdog = undefined;
      if (this.lease && !this.term.valid())
        this.lose('the lease could not be renewed before it could expire');
    }, this.term.remaining() + 1);
  }

  private async renew(): Promise<void> {
    this.renewTimer = undefined;
    const lease = this.lease;
    if (!lease || this.closed) return;
    if (!this.term.valid()) return this.lose('the lease term ended before its renewal (a stalled process?)');
    const sentAt = this.o.clock.now();
    const { keys, group } = this.o;
    try {
      const r = (await this.o.redis.eval(
        RENEW,
        3,
        keys.lease(group),
        keys.epoch(group),
        keys.fence(group),
        lease.raw,
        String(this.o.ttlMs),
        this.term.valid() ? '1' : '0',
        String(lease.epoch),
      )) as number;
      if (this.lease !== lease) return;
      if (r === 0) return this.lose('another member holds the lease now');
      if (r === 2) this.o.log.warn({ epoch: lease.epoch }, 'Redis had lost the group’s lease; restored it');
      if (this.outage) this.o.log.info({ epoch: lease.epoch }, 'Redis answers again');
      this.outage = false;
      this.term.confirm(sentAt);
      this.lastError = undefined;
      this.reportHealth();
    } catch (err) {
      this.noteError(err);
      if (this.lease !== lease) return;
      // Redis is out of reach: the group's members may keep this node active by their promises.
      const left = this.term.remaining();
      const promised =
        left > 0 && (await this.o.view.confirmStandby(lease.epoch, this.o.ttlMs, left).catch(() => false));
      if (this.lease !== lease) return;
      if (promised) {
        if (!this.outage)
          this.o.log.warn(
            { epoch: lease.epoch },
            'Redis out of reach: every member confirmed it is passive; staying active',
          );
        this.outage = true;
        this.term.confirm(sentAt);
      } else if (!this.term.valid()) {
        return this.lose(`the lease could not be renewed: ${this.lastError ?? 'error'}`);
      }
    }
    this.scheduleRenewal();
  }

  /**
   * `holder` asks this member to promise not to take the lease for `ttlMs` (Redis is out of its reach): given only
   * by a passive member that sees no other holder — and kept, by its own clock, from this moment.
   */
  promiseStandby(holder: string, epoch: number, ttlMs: number): boolean {
    if (this.lease || this.acquiring || holder === this.o.self.name) return false;
    if (this.current && this.current.holder !== holder && this.current.epoch > epoch) return false;
    this.noteEpoch(epoch);
    this.promisedUntil = Math.max(this.promisedUntil, this.o.clock.now() + ttlMs);
    return true;
  }

  private lose(reason: string): void {
    if (!this.lease) return;
    this.o.log.warn({ epoch: this.lease.epoch, reason }, 'lost the group’s lease');
    this.stopHolding();
    for (const l of this.lostListeners) l(reason);
  }

  private stopHolding(): void {
    const held = this.lease;
    this.term.end();
    this.lease = undefined;
    this.leadership = undefined;
    for (const t of [this.renewTimer, this.watchdog]) if (t !== undefined) this.o.clock.clearTimeout(t);
    this.renewTimer = undefined;
    this.watchdog = undefined;
    // Its own lease is no longer what this node knows of the group: the next read of Redis says who leads.
    if (held && this.current?.raw === held.raw) this.current = undefined;
    if (held) this.reportLeadership();
  }

  /** Gives the lease up at once (compare-and-delete), so the next member takes over without waiting. */
  async release(): Promise<void> {
    const lease = this.lease;
    this.stopHolding();
    if (lease) await this.deleteIf(lease.raw).catch((err: unknown) => this.noteError(err));
  }

  /**
   * `node`'s death is proven (its host refused its node channel): if it holds this group's lease, delete that
   * exact lease value now instead of waiting for it to expire. A lease renewed or taken by anyone meanwhile is a
   * different value and is left alone.
   */
  async provenDead(node: string): Promise<void> {
    const current = parseLease(await this.o.redis.get(this.o.keys.lease(this.o.group)));
    if (!current || current.holder !== node || node === this.o.self.name) return;
    if ((await this.deleteIf(current.raw)) === 1) {
      this.o.log.info({ holder: node, epoch: current.epoch }, 'broke the lease of a dead holder');
      this.current = undefined;
      this.reportLeadership();
      this.wake?.();
    }
  }

  /** The holder of a group's lease now (any group of the cluster: for routing), read from Redis. */
  async holderOf(group: number): Promise<LeaseValue | undefined> {
    const v = parseLease(await this.o.redis.get(this.o.keys.lease(group)));
    if (group === this.o.group) this.observe(v);
    return v;
  }

  /** An epoch a peer advertised: later acquisitions go above it. */
  noteEpoch(epoch: number): void {
    this.highestEpoch = Math.max(this.highestEpoch, epoch);
  }

  /** True while this node may act as its group's active instance (read from the clock, now). */
  leading(): boolean {
    return this.lease !== undefined && this.term.valid();
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  onEvent(listener: (e: CoordinationEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  status(): CoordinationStatus {
    const holder =
      this.leadership ??
      (this.current && { epoch: this.current.epoch, holder: this.current.holder, since: 0 });
    return {
      kind: 'redis',
      healthy: this.o.redis.status === 'ready' && this.lastError === undefined,
      leadership: holder,
      detail: this.outage
        ? `Redis out of reach (${this.lastError ?? 'error'}); kept active by every member's promise`
        : (this.lastError ?? `redis ${this.o.redis.status}`),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.release();
    this.o.redis.off('ready', this.reportHealth);
    this.o.redis.off('close', this.reportHealth);
    this.wake?.();
  }

  private deleteIf(raw: string): Promise<number> {
    return this.o.redis.eval(DELETE_IF, 1, this.o.keys.lease(this.o.group), raw) as Promise<number>;
  }

  private observe(v: LeaseValue | undefined, report = true): void {
    this.current = v;
    if (v) this.noteEpoch(v.epoch);
    if (report) this.reportLeadership();
  }

  private noteError(err: unknown): void {
    const message = serializeError(err).message;
    if (this.lastError !== message) this.o.log.warn({ error: message }, 'coordination error');
    this.lastError = message;
    this.reportHealth();
  }

  /** Tells a change of health (see CoordinationEvents); called wherever it may have changed. */
  private readonly reportHealth = (): void => {
    const s = this.status();
    this.events.health(s.healthy, s.detail);
  };

  /** Tells a change of the group's leadership as this node knows it (its own, or the lease last read). */
  private reportLeadership(): void {
    const l = this.leadership ?? this.current;
    this.events.leadership(l?.holder ?? null, l?.epoch ?? null);
  }

  /** Waits `ms`, or less if {@link provenDead} frees the lease meanwhile. */
  private pause(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.o.clock.clearTimeout(t);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const t = this.o.clock.setTimeout(done, ms);
      this.wake = done;
    });
  }
}
