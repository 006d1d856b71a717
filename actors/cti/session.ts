import type { SequencedCallEvent } from '../freeswitch/farm.ts';
import type { CtiFeed } from './feed.ts';
import type { CtiClientInfo, CtiOutbound, CtiSubscription } from './protocol.ts';

/**
 * One subscribed client, whatever its transport: it replays from the client's sequence number, then follows the
 * feed live. The feed is the client's queue: a transport that is congested (`write` answers false) stops taking
 * messages, the session remembers where it was, and `drained()` catches up from the buffer. A client that stays
 * congested longer than the buffer holds gets a `gap` with what it missed — it is never silently skipped, and no
 * per-client queue grows without bound.
 */

/** Where a session's messages go. */
export interface CtiSink {
  /** Takes a message; false: it is congested, give it no more until `drained()`. */
  write(m: CtiOutbound): boolean;
}

/** Counted over all sessions of a server. */
export interface SessionCounters {
  sent: number;
  gaps: number;
}

/** Events read from the buffer per step of a catch-up. */
const BATCH = 256;

export class CtiSession {
  private cursor = 0;
  private sent = 0;
  private gaps = 0;
  /** Caught up: the next live event can go straight out. */
  private live = false;
  private congested = false;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private readonly domains: ReadonlySet<string>;
  readonly connectedAt: number;

  constructor(
    readonly id: number,
    readonly peer: string,
    private readonly feed: CtiFeed,
    private readonly sub: CtiSubscription,
    private readonly sink: CtiSink,
    private readonly counters: SessionCounters,
    now: number,
  ) {
    this.domains = new Set(sub.domains.map((d) => d.toLowerCase()));
    this.connectedAt = now;
  }

  /** Says hello, replays what the client asked for, and follows the feed. */
  start(): void {
    const { after, stream } = this.sub;
    // A number from another run of the sequence (or from beyond this one's end) means nothing here: replay all held.
    const resumed =
      after !== undefined && (stream ?? this.feed.stream) === this.feed.stream && after <= this.feed.last;
    this.cursor = resumed ? after : after !== undefined ? 0 : this.feed.last;
    this.sink.write({
      type: 'hello',
      stream: this.feed.stream,
      first: this.feed.first,
      last: this.feed.last,
      resumed,
    });
    this.unsubscribe = this.feed.subscribe((e) => this.onEvent(e));
    this.pump();
  }

  /** The transport can take messages again. */
  drained(): void {
    if (this.closed) return;
    this.congested = false;
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
  }

  info(): CtiClientInfo {
    return {
      id: this.id,
      peer: this.peer,
      domains: [...this.domains],
      connected_at: this.connectedAt,
      cursor: this.cursor,
      sent: this.sent,
      gaps: this.gaps,
    };
  }

  private onEvent(e: SequencedCallEvent): void {
    if (this.closed || this.congested) return;
    if (this.live && e.seq === this.cursor + 1) this.deliver(e);
    else this.pump();
  }

  /** Sends from the buffer until caught up or congested. */
  private pump(): void {
    this.live = false;
    while (!this.closed && !this.congested) {
      const { events, missed } = this.feed.since(this.cursor, BATCH);
      if (missed > 0) {
        this.gaps++;
        this.counters.gaps++;
        this.congested = !this.sink.write({ type: 'gap', after: this.cursor, missed });
        this.cursor += missed;
      }
      for (const e of events) {
        if (this.congested) return;
        this.deliver(e);
      }
      if (events.length < BATCH) {
        this.live = !this.congested;
        return;
      }
    }
  }

  private deliver(e: SequencedCallEvent): void {
    this.cursor = e.seq;
    if (!this.wants(e.domain)) return;
    this.sent++;
    this.counters.sent++;
    if (!this.sink.write({ type: 'event', event: e })) {
      this.congested = true;
      this.live = false;
    }
  }

  /** The domain itself or one of its subdomains (a client of a domain follows its part of the domain tree). */
  private wants(domain: string | null): boolean {
    if (this.domains.size === 0) return true;
    if (domain === null) return false;
    let d = domain.toLowerCase();
    for (;;) {
      if (this.domains.has(d)) return true;
      const dot = d.indexOf('.');
      if (dot < 0) return false;
      d = d.slice(dot + 1);
    }
  }
}
