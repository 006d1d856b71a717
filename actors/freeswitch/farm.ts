import { randomUUID } from 'node:crypto';
import type { CallEvent } from '../../src/freeswitch/call-events.ts';
import type { FsChannel, FsHostStatus } from './protocol.ts';

/**
 * The farm's board, shared by the actors of one `/freeswitch` subtree: each host actor posts what it sees (its
 * state, channels, load) and publishes its call events here; the migrator reads the board and follows the events.
 * It outlives the host actors' restarts, so a restarted actor goes on from its predecessor's view (when the host
 * went down, above all: the confirmation window runs from the first loss, not from the latest reconnect attempt).
 */

export interface HostView {
  status: FsHostStatus;
  /** When ESL was lost (wall clock), kept across the actor's restarts until it is up again. */
  downSince: number | null;
  channels: ReadonlyMap<string, FsChannel>;
}

/** A leg that ended, remembered for the migrator's proof (a hangup during a takeover is still seen). */
export interface Hangup {
  host: string;
  cause: string;
  at: number;
}

const HANGUPS_KEPT = 20_000;
/** Call events kept for readers that poll or resume (`events` after a sequence number). */
const EVENTS_KEPT = 10_000;

/** A call event with its place in the farm's stream. */
export type SequencedCallEvent = CallEvent & { seq: number };

export class FsFarm {
  private readonly views = new Map<string, HostView>();
  private readonly callListeners = new Set<(e: SequencedCallEvent) => void>();
  private readonly hostListeners = new Set<(name: string) => void>();
  private readonly hangups = new Map<string, Hangup>();
  private readonly recent: SequencedCallEvent[] = [];
  private seq = 0;
  /**
   * Identifies this run of the sequence numbers: a new active instance's board numbers from 1 again, so a reader
   * that resumes with a number from the previous one names the stream it came from and is read from the start.
   */
  readonly stream: string = randomUUID();

  constructor(readonly hosts: readonly string[]) {}

  get(name: string): HostView | undefined {
    return this.views.get(name);
  }

  all(): HostView[] {
    return this.hosts.flatMap((h) => this.views.get(h) ?? []);
  }

  post(view: HostView): void {
    this.views.set(view.status.name, view);
    for (const l of this.hostListeners) l(view.status.name);
  }

  /** A call event from a host: remembered when it ends a leg, then given to every listener. */
  publish(e: CallEvent): void {
    const sequenced: SequencedCallEvent = { ...e, seq: ++this.seq };
    this.recent.push(sequenced);
    // Trimmed a thousand at a time: a splice per event would move the whole buffer on every event of a recovery.
    if (this.recent.length > EVENTS_KEPT + 1_000) this.recent.splice(0, this.recent.length - EVENTS_KEPT);
    if (e.kind === 'ended') {
      this.hangups.delete(e.uuid);
      this.hangups.set(e.uuid, { host: e.host, cause: e.cause ?? 'UNKNOWN', at: e.at });
      if (this.hangups.size > HANGUPS_KEPT) this.hangups.delete(this.hangups.keys().next().value!);
    }
    for (const l of this.callListeners) {
      try {
        l(sequenced);
      } catch {
        // A listener's fault is its own: the stream goes on for the others.
      }
    }
  }

  /**
   * Events after `seq`, oldest first, at most `limit`; `missed` counts those that already left the bounded buffer
   * (a reader that fell behind learns it lost some rather than silently skipping them). A reader whose `seq` belongs
   * to another `stream` (an earlier active's) is read from this stream's start, with `restarted`.
   */
  since(
    seq: number,
    limit: number,
    stream?: string,
  ): { events: SequencedCallEvent[]; next: number; missed: number; stream: string; restarted: boolean } {
    const restarted = stream !== undefined && stream !== this.stream;
    const after = restarted ? 0 : seq;
    const first = this.recent[0]?.seq ?? this.seq + 1;
    const missed = Math.max(0, first - after - 1);
    const start = this.recent.findIndex((e) => e.seq > after);
    const events = start < 0 ? [] : this.recent.slice(start, start + limit);
    return {
      events,
      next: events.at(-1)?.seq ?? Math.max(after, this.seq),
      missed,
      stream: this.stream,
      restarted,
    };
  }

  hangupOf(uuid: string): Hangup | undefined {
    return this.hangups.get(uuid);
  }

  /** Every call event from now on, with its sequence number (the CTI adapters resume by it). */
  onCall(listener: (e: SequencedCallEvent) => void): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  onHost(listener: (name: string) => void): () => void {
    this.hostListeners.add(listener);
    return () => this.hostListeners.delete(listener);
  }

  /** Which host has a live channel with this uuid now. */
  whereIs(uuid: string): string | null {
    for (const v of this.views.values()) if (v.channels.has(uuid)) return v.status.name;
    return null;
  }
}
