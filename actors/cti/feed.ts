import { randomUUID } from 'node:crypto';
import type { SequencedCallEvent } from '../freeswitch/farm.ts';

/**
 * One CTI adapter's bounded buffer of the farm's call events (06-services.md "CTI event provider"): the last
 * `capacity` events, in sequence order, and the live stream after them. It is built with the adapter's subtree and
 * outlives the adapter actor's restarts, so a client that reconnects to a restarted server resumes from its last
 * sequence number without losing what the buffer still holds.
 *
 * The sequence numbers are the farm's own. They start again when the farm's board does (a new leadership of the
 * group), so the feed has a `stream` id of its own: a client that resumes with another stream's id is told so and
 * given everything held rather than nothing.
 */

/** What a reader gets of the buffer after a sequence number. */
export interface FeedRead {
  events: SequencedCallEvent[];
  /** Events after `after` that already left the buffer (0: nothing was lost to this reader). */
  missed: number;
}

export class CtiFeed {
  /** Identifies this run of the sequence numbers. */
  readonly stream: string;
  private readonly ring: (SequencedCallEvent | undefined)[];
  /** Index in `ring` of the oldest event held. */
  private head = 0;
  private count = 0;
  /** Highest sequence number seen (held or not). */
  private newest = 0;
  private readonly listeners = new Set<(e: SequencedCallEvent) => void>();

  constructor(
    readonly capacity: number,
    stream: string = randomUUID(),
  ) {
    this.ring = new Array<SequencedCallEvent | undefined>(capacity);
    this.stream = stream;
  }

  /** Oldest sequence number held (the newest + 1 when empty). */
  get first(): number {
    return this.count === 0 ? this.newest + 1 : this.at(0).seq;
  }

  /** Newest sequence number seen (0 before any). */
  get last(): number {
    return this.newest;
  }

  get held(): number {
    return this.count;
  }

  /** Appends an event (sequence numbers only grow; an older one is a replay and ignored) and tells every reader. */
  push(e: SequencedCallEvent): void {
    if (e.seq <= this.newest) return;
    this.newest = e.seq;
    if (this.count < this.capacity) {
      this.ring[(this.head + this.count) % this.capacity] = e;
      this.count++;
    } else {
      this.ring[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
    }
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A reader's fault is its own: the others still get the event.
      }
    }
  }

  /** Events after `after`, oldest first, at most `limit`. */
  since(after: number, limit: number): FeedRead {
    const first = this.first;
    const missed = Math.max(0, first - after - 1);
    // The farm's numbers have no holes, but a backfill may start late: find the first held seq > after.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).seq <= after) lo = mid + 1;
      else hi = mid;
    }
    const n = Math.min(limit, this.count - lo);
    const events = new Array<SequencedCallEvent>(n);
    for (let i = 0; i < n; i++) events[i] = this.at(lo + i);
    return { events, missed };
  }

  /** Every event pushed from now on. */
  subscribe(listener: (e: SequencedCallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private at(i: number): SequencedCallEvent {
    return this.ring[(this.head + i) % this.capacity]!;
  }
}

/** What a feed follows: the farm's board (`FsFarm`) offers both. */
export interface CallEventSource {
  since(seq: number, limit: number): { events: SequencedCallEvent[] };
  onCall(listener: (e: SequencedCallEvent) => void): () => void;
}

/**
 * Fills `feed` with what `source` still holds, then follows it live. Both happen in one turn, so no event falls
 * between the backfill and the subscription.
 */
export function follow(feed: CtiFeed, source: CallEventSource): () => void {
  // All the board holds (it is bounded itself); the ring keeps the newest `capacity` of them.
  for (const e of source.since(0, Number.MAX_SAFE_INTEGER).events) feed.push(e);
  return source.onCall((e) => feed.push(e));
}
