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

/**
 * What a node learns of its group's coordination as it happens (for the metrics, the event stream and the log).
 * Only changes are told, after the backend's first look: a node that joins a running group hears of the next
 * leadership, not of the one it found.
 * - `health`: coordination became unhealthy (Redis out of reach, say) or healthy again; `detail` says why, in words
 *   that may name hosts and ports (for admins only, see api/disclosure.ts);
 * - `leadership`: the group's leadership as this node knows it changed: a new holder or epoch, or none known
 *   (`holder: null`: the lease was given up, lost or broken). `takeover` is true for a new leadership — an epoch
 *   above every one this node had seen — and false for the rest (a gap, the same lease seen again).
 */
export type CoordinationEvent =
  | { type: 'health'; healthy: boolean; detail?: string }
  | { type: 'leadership'; holder: string | null; epoch: number | null; takeover: boolean };

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
  /** Follows the changes of {@link CoordinationEvent}; returns the unsubscribe function. */
  onEvent(listener: (e: CoordinationEvent) => void): () => void;
  close(): Promise<void>;
}
