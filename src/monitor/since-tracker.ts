import type { Deviation } from './deviation.ts';
import { deviationKey } from './deviation.ts';

/**
 * Keeps a deviation's `since` across polls while it holds (deviation.ts): the first time a key is seen is kept, so
 * a source that stamps its deviations afresh on every poll (a computed CPU load, say) still reads as one deviation
 * that began once. A key missing from a poll is forgotten: if it comes back, it is a new deviation.
 */
export class SinceTracker {
  private seen = new Map<string, string>();

  /** `list` with every deviation's `since` replaced by the first one seen for its key. */
  stamp(list: readonly Deviation[]): Deviation[] {
    const next = new Map<string, string>();
    const out = list.map((d) => {
      const key = deviationKey(d);
      const since = next.get(key) ?? this.seen.get(key) ?? d.since;
      next.set(key, since);
      return since === d.since ? d : { ...d, since };
    });
    this.seen = next;
    return out;
  }
}
