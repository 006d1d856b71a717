import type { MwareRole } from '../../topology/schema.ts';
import type { Clock, TimerHandle } from '../supervision/clock.ts';
import type { ChannelMessage } from './connection.ts';

/**
 * What a node knows of its group's members (02-runtime.md "Membership"): members heartbeat each other over the node
 * channel every {@link HEARTBEAT_MS}; a heartbeat and its acknowledgement carry the sender's role, epoch and
 * lifecycle state, so each side learns of the other, and the acknowledgement gives the round trip (the lag shown by
 * `cluster`). A member heard from within {@link LIVE_MS} is live. Liveness only orders who tries for a free lease
 * first: it never decides who leads, so a slow heartbeat can delay a takeover, not cause a second active.
 */

export const HEARTBEAT_MS = 200;
export const LIVE_MS = 1_000;
/**
 * After its start, how long a node counts members it has not heard from yet as live when ordering who tries a free
 * lease: a group started cold elects its lowest order, not whichever process came up first.
 */
export const JOIN_MS = LIVE_MS;

export type MemberRole = 'active' | 'passive' | 'unknown';

export interface MemberState {
  name: string;
  order: number;
  role: MemberRole;
  epoch: number | null;
  /** The member's node lifecycle state as it reported it. */
  state: string | null;
  /** Milliseconds since it was last heard from (null: never). */
  lastHeardMs: number | null;
  /** Round trip of the last heartbeat, in ms. */
  rttMs: number | null;
  self: boolean;
}

export interface SelfReport {
  role: MemberRole;
  epoch: number | null;
  state: string;
}

interface Heard {
  at: number;
  role: MemberRole;
  epoch: number | null;
  state: string | null;
  rttMs: number | null;
}

export class Membership {
  private readonly heard = new Map<string, Heard>();
  /** Each member's last advertised epoch and state, kept when it is forgotten (for {@link previousActive}). */
  private readonly advertised = new Map<string, { epoch: number; state: string | null }>();
  /** Members whose host refused their channel since this node started (no reason to wait for them). */
  private readonly gone = new Set<string>();
  private startedAt = -Infinity;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly o: {
      self: MwareRole;
      members: readonly MwareRole[];
      clock: Clock;
      /** This node's own role, epoch and state now. */
      report: () => SelfReport;
      send: (peer: string, msg: ChannelMessage) => Promise<boolean>;
      /** An epoch a member advertised (coordination keeps later epochs above it). */
      onEpoch?: (epoch: number) => void;
    },
  ) {}

  start(): void {
    this.startedAt = this.o.clock.now();
    const beat = () => {
      this.timer = this.o.clock.setTimeout(beat, HEARTBEAT_MS);
      this.announce();
    };
    beat();
  }

  /**
   * Sends a heartbeat now, outside the beat: a node that starts to drain tells its peers at once, so the member
   * taking over knows the hand-over was planned, not a loss (a beat could come only after the lease is given up).
   */
  announce(): void {
    const msg = { t: 'hb', ...this.o.report(), sentAt: this.o.clock.now() };
    for (const m of this.o.members) if (m.name !== this.o.self.name) void this.o.send(m.name, msg);
  }

  stop(): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A heartbeat or its acknowledgement from `from`; returns the acknowledgement to send back, if any. */
  receive(from: string, m: ChannelMessage): ChannelMessage | undefined {
    if (!this.o.members.some((x) => x.name === from)) return undefined;
    const epoch = typeof m.epoch === 'number' ? m.epoch : null;
    const role: MemberRole = m.role === 'active' || m.role === 'passive' ? m.role : 'unknown';
    const state = typeof m.state === 'string' ? m.state : null;
    const now = this.o.clock.now();
    if ((m.t === 'hb' || m.t === 'hb-ack') && epoch !== null) this.advertised.set(from, { epoch, state });
    if (m.t === 'hb') {
      this.note(from, { at: now, role, epoch, state, rttMs: this.heard.get(from)?.rttMs ?? null });
      return { t: 'hb-ack', ...this.o.report(), echo: m.sentAt };
    }
    if (m.t === 'hb-ack') {
      const rtt = typeof m.echo === 'number' ? Math.max(0, now - m.echo) : null;
      this.note(from, { at: now, role, epoch, state, rttMs: rtt });
    }
    return undefined;
  }

  /** Members heard from within LIVE_MS, and this node. */
  liveMembers(): ReadonlySet<string> {
    const now = this.o.clock.now();
    const live = new Set([this.o.self.name]);
    for (const [name, h] of this.heard) if (now - h.at <= LIVE_MS) live.add(name);
    return live;
  }

  /**
   * The members that count when ordering who tries a free lease: the live ones and, within {@link JOIN_MS} of this
   * node's start, those not heard from yet (still starting, perhaps) unless their host refused their channel.
   */
  candidates(): ReadonlySet<string> {
    const live = new Set(this.liveMembers());
    for (const m of this.o.members) if (this.awaited(m.name)) live.add(m.name);
    return live;
  }

  /** A member counted among the candidates only by the join window: never heard from, not known gone. */
  awaited(name: string): boolean {
    return (
      this.o.clock.now() - this.startedAt < JOIN_MS &&
      name !== this.o.self.name &&
      !this.heard.has(name) &&
      !this.gone.has(name)
    );
  }

  /**
   * The member that last advertised the highest epoch below `epoch` — the previous active, for a node that has just
   * taken over at `epoch` — with the state it last reported (`draining` if it announced its stop), even if it has
   * been forgotten since. Undefined when no member advertised one (this node is the group's first active).
   */
  previousActive(epoch: number): { name: string; epoch: number; state: string | null } | undefined {
    let best: { name: string; epoch: number; state: string | null } | undefined;
    for (const [name, a] of this.advertised)
      if (name !== this.o.self.name && a.epoch < epoch && (!best || a.epoch > best.epoch))
        best = { name, ...a };
    return best;
  }

  /** A member's host refused its channel: not live from now on. */
  forget(name: string): void {
    // Refused before it was ever heard from, a member may simply not be up yet (a cold start): the join window
    // still waits for it; heard from and then refused, its process is gone.
    if (this.heard.delete(name)) this.gone.add(name);
  }

  /** Every member in failover order, as this node sees it. */
  view(): MemberState[] {
    const now = this.o.clock.now();
    const me = this.o.report();
    return [...this.o.members]
      .sort((a, b) => a.order - b.order)
      .map((m) => {
        if (m.name === this.o.self.name)
          return { name: m.name, order: m.order, ...me, lastHeardMs: 0, rttMs: 0, self: true };
        const h = this.heard.get(m.name);
        const live = h !== undefined && now - h.at <= LIVE_MS;
        return {
          name: m.name,
          order: m.order,
          role: live ? h.role : 'unknown',
          epoch: h?.epoch ?? null,
          state: live ? h.state : null,
          lastHeardMs: h ? Math.round(now - h.at) : null,
          rttMs: h?.rttMs === null || h?.rttMs === undefined ? null : Math.round(h.rttMs * 10) / 10,
          self: false,
        };
      });
  }

  private note(from: string, h: Heard): void {
    this.heard.set(from, h);
    this.gone.delete(from);
    if (h.epoch !== null) this.o.onEpoch?.(h.epoch);
  }
}
