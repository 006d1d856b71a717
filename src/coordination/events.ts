import type { CoordinationEvent } from './backend.ts';

/**
 * The changes a coordination backend tells ({@link CoordinationEvent}), worked out from what it reports each time it
 * learns something: the health and the holder it sees now. The first report of each is the baseline, not a change.
 */
export class CoordinationEvents {
  private readonly listeners = new Set<(e: CoordinationEvent) => void>();
  private healthy: boolean | undefined;
  /** The holder last reported: undefined before the first look, null when none was known. */
  private holder: string | null | undefined;
  private epoch: number | null = null;
  private highestEpoch = 0;

  subscribe(listener: (e: CoordinationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The backend's health now; told when it differs from the last report. */
  health(healthy: boolean, detail: string | undefined): void {
    const first = this.healthy === undefined;
    if (this.healthy === healthy) return;
    this.healthy = healthy;
    if (!first) this.emit({ type: 'health', healthy, ...(detail === undefined ? {} : { detail }) });
  }

  /** The group's holder and epoch as the backend sees them now (none: null); told when either changed. */
  leadership(holder: string | null, epoch: number | null): void {
    if (holder === null) epoch = null;
    const first = this.holder === undefined;
    if (!first && holder === this.holder && epoch === this.epoch) return;
    this.holder = holder;
    this.epoch = epoch;
    const takeover = holder !== null && epoch !== null && epoch > this.highestEpoch;
    if (epoch !== null) this.highestEpoch = Math.max(this.highestEpoch, epoch);
    if (!first) this.emit({ type: 'leadership', holder, epoch, takeover });
  }

  private emit(e: CoordinationEvent): void {
    // A listener that throws must not stop the others, nor the backend that reports.
    for (const l of [...this.listeners])
      try {
        l(e);
      } catch {
        // the listener's own problem
      }
  }
}
