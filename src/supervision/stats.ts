/**
 * Counters per actor kind (never per id), kept as plain numbers on the hot path and read when metrics are
 * scraped. Latency is sampled: one request in {@link LATENCY_SAMPLE} per kind is timed.
 */

export const LATENCY_SAMPLE = 64;

export interface KindStats {
  readonly kind: string;
  messages: number;
  /** Latency samples (seconds) not yet taken by the metrics collector. */
  latencies: number[];
}

export class ActorStats {
  private readonly kinds = new Map<string, KindStats>();

  forKind(kind: string): KindStats {
    let s = this.kinds.get(kind);
    if (!s) this.kinds.set(kind, (s = { kind, messages: 0, latencies: [] }));
    return s;
  }

  all(): Iterable<KindStats> {
    return this.kinds.values();
  }
}
