import type { Deviation, DeviationSeverity } from '../../src/monitor/deviation.ts';

/**
 * What a monitor concludes from its rounds of probes: each watched condition (a name missing, a link down, a gateway
 * lost) is raised after `confirm` consecutive failing rounds — one slow answer is not an outage — and cleared by
 * the first good round. A raised condition is a {@link Deviation} whose `since` is its first failing round.
 */

/** One condition as one round saw it. A condition a round does not mention is taken as good. */
export interface Observation {
  /** Stable across rounds: `name-missing:group-1-active`, `sg-lost:sg1`. */
  key: string;
  failing: boolean;
  kind: string;
  severity: DeviationSeverity;
  /** One line naming the thing (no secret); it may change while the condition holds. */
  message: string;
  details?: Record<string, unknown>;
}

export type Transition = { type: 'raised' | 'cleared'; key: string; deviation: Deviation };

interface Held {
  failures: number;
  firstFailedAt: number;
  raised?: Deviation;
}

export class Conditions {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly source: string,
    private readonly confirm: number,
  ) {}

  /** Takes one round's observations at wall time `now`; returns what was raised and cleared by it. */
  update(observations: readonly Observation[], now: number): Transition[] {
    const out: Transition[] = [];
    const seen = new Set<string>();
    for (const o of observations) {
      seen.add(o.key);
      if (!o.failing) {
        this.clear(o.key, out);
        continue;
      }
      const h = this.held.get(o.key) ?? { failures: 0, firstFailedAt: now };
      h.failures++;
      this.held.set(o.key, h);
      if (h.failures < this.confirm) continue;
      const deviation: Deviation = {
        source: this.source,
        kind: o.kind,
        severity: o.severity,
        since: new Date(h.firstFailedAt).toISOString(),
        message: o.message,
        ...(o.details && { details: o.details }),
      };
      if (!h.raised) out.push({ type: 'raised', key: o.key, deviation });
      h.raised = deviation;
    }
    for (const key of [...this.held.keys()]) if (!seen.has(key)) this.clear(key, out);
    return out;
  }

  /** The raised conditions now. */
  deviations(): Deviation[] {
    return [...this.held.values()].flatMap((h) => (h.raised ? [h.raised] : []));
  }

  /** Consecutive failing rounds of `key` so far (0 when good). */
  failures(key: string): number {
    return this.held.get(key)?.failures ?? 0;
  }

  isRaised(key: string): boolean {
    return this.held.get(key)?.raised !== undefined;
  }

  private clear(key: string, out: Transition[]): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    if (h.raised) out.push({ type: 'cleared', key, deviation: h.raised });
  }
}
