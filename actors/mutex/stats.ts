/** What the mutex service counts, for metrics. */
export interface MutexStats {
  /** Lock requests granted at once. */
  grantedAtOnce: number;
  /** Lock requests granted after waiting in the queue. */
  grantedAfterWait: number;
  /** Lock requests that could not be granted at once and were queued. */
  queued: number;
  /** Waits that ran out. */
  timeouts: number;
}

export function newMutexStats(): MutexStats {
  return { grantedAtOnce: 0, grantedAfterWait: 0, queued: 0, timeouts: 0 };
}
