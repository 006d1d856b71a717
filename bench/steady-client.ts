// A client for the failover benchmark: every `everyMs` it asks the same domain actor for its `info` through each of
// the group's nodes (a plain HTTP request per node, nothing retried), and keeps every outcome: when it was sent,
// when it ended, and which incarnation of the actor answered (its `started_at`), so "the first request served by
// the new active" is the first answer from an incarnation other than the old active's.

export interface Outcome {
  url: string;
  sentAt: number;
  doneAt: number;
  /** The HTTP status, or what happened instead of an answer. */
  status: number | 'refused' | 'timeout' | 'error';
  /** `started_at` of the incarnation of the actor that answered (200 only). */
  incarnation?: number;
}

export class SteadyClient {
  readonly outcomes: Outcome[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly o: {
      urls: readonly string[];
      /** The actor's path, e.g. /domains/rootdomain.ru. */
      path: string;
      token: string;
      everyMs: number;
      /** Each request's deadline, on the client and (less a margin) on the node. */
      timeoutMs: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      for (const url of this.o.urls) {
        const p = this.once(url);
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      }
    }, this.o.everyMs);
  }

  /** Stops sending and waits for the requests in flight (each ends by its deadline). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  /** The first answer after `t` from an incarnation other than `old`, by the time it arrived. */
  firstServedAfter(t: number, old: number): Outcome | undefined {
    let first: Outcome | undefined;
    for (const x of this.outcomes)
      if (x.status === 200 && x.incarnation !== old && x.doneAt > t && (!first || x.doneAt < first.doneAt))
        first = x;
    return first;
  }

  /** Answers after `t` from incarnation `old`: a deposed active serving again. */
  servedBy(old: number, after: number): Outcome[] {
    return this.outcomes.filter((x) => x.status === 200 && x.incarnation === old && x.doneAt > after);
  }

  private async once(url: string): Promise<void> {
    const sentAt = performance.now();
    const segments = this.o.path.split('/').filter((s) => s !== '');
    let status: Outcome['status'];
    let incarnation: number | undefined;
    try {
      const res = await fetch(`${url}/api/v1/actors/${segments.join('/')}/messages?reply=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'info', timeout_ms: Math.max(1, this.o.timeoutMs - 100) }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      status = res.status;
      const body = (await res.json()) as { result?: { started_at?: number } };
      incarnation = res.status === 200 ? body.result?.started_at : undefined;
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      status = e.name === 'TimeoutError' ? 'timeout' : e.cause?.code === 'ECONNREFUSED' ? 'refused' : 'error';
    }
    this.outcomes.push({
      url,
      sentAt,
      doneAt: performance.now(),
      status,
      ...(incarnation ? { incarnation } : {}),
    });
  }
}
