/**
 * Cluster coordination: who is the active member of a group, and the fencing epoch it acts under. Implementations:
 * `embedded` (one node, in-process; the default) here, `redis` (leases in Redis) for clusters.
 */

export interface Leadership {
  /** Incremented at every acquisition; every side effect that must not be done twice carries it. */
  epoch: number;
  holder: string;
  /** Wall-clock time it was acquired. */
  since: number;
}

export type CoordinationKind = 'embedded' | 'redis';

export interface CoordinationStatus {
  kind: CoordinationKind;
  healthy: boolean;
  leadership?: Leadership;
  detail?: string;
}

export interface CoordinationBackend {
  readonly kind: CoordinationKind;
  /** Becomes the group's active member (waits for its turn in a cluster). */
  acquire(): Promise<Leadership>;
  /** Gives leadership up at once so another member can take over without waiting for a lease to expire. */
  release(): Promise<void>;
  /** Called if leadership is lost without release (lease expired, fenced). */
  onLost(listener: (reason: string) => void): void;
  /**
   * True while this node may act as its group's active instance, read at the moment of the question (a lease whose
   * term is over is not trusted, whatever the timers say): every side effect checks it.
   */
  leading(): boolean;
  status(): CoordinationStatus;
  close(): Promise<void>;
}
