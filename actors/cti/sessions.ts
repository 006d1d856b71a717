import type { Clock } from '../../src/supervision/clock.ts';
import type { CtiFeed } from './feed.ts';
import type { CtiClientInfo, CtiSubscription } from './protocol.ts';
import type { CtiSink, SessionCounters } from './session.ts';
import { CtiSession } from './session.ts';

/** The clients of one adapter server and its counters, shared by every transport. */
export class CtiSessions {
  private readonly open = new Set<CtiSession>();
  private nextId = 1;
  readonly counters: SessionCounters & { refused: number } = { sent: 0, gaps: 0, refused: 0 };

  constructor(
    private readonly feed: CtiFeed,
    private readonly clock: Clock,
    readonly maxClients: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  get full(): boolean {
    return this.open.size >= this.maxClients;
  }

  /** Starts a client's stream: its hello and replay are written before this returns. */
  add(peer: string, sub: CtiSubscription, sink: CtiSink): CtiSession {
    const s = new CtiSession(this.nextId++, peer, this.feed, sub, sink, this.counters, this.clock.wallNow());
    this.open.add(s);
    s.start();
    return s;
  }

  remove(s: CtiSession): void {
    s.close();
    this.open.delete(s);
  }

  refuse(): void {
    this.counters.refused++;
  }

  /** Ends every session (the server is stopping). */
  clear(): void {
    for (const s of this.open) s.close();
    this.open.clear();
  }

  info(): CtiClientInfo[] {
    return [...this.open].map((s) => s.info());
  }
}
