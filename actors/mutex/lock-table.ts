/**
 * The decision logic of one mutex key, with no I/O and no timers: who holds it, who waits, in what order.
 * - `write` is exclusive; `read` is shared with other readers;
 * - waiting is FIFO, and a waiting writer blocks readers that come after it (readers do not starve writers);
 * - every grant gets a fencing token from the node's {@link FencingTokens} (strictly greater than every earlier
 *   token of the key);
 * - a hold ends by unlock (owner and token must match), by release of everything an owner has, or at expiry.
 */

export type LockMode = 'read' | 'write';

export interface Holder {
  owner: string;
  mode: LockMode;
  token: number;
  /** Wall-clock ms: a hold survives restarts and takeovers, so its end is not on a monotonic clock. */
  expiresAt: number;
}

export interface Waiter<T = unknown> {
  id: number;
  owner: string;
  mode: LockMode;
  holdMs: number;
  /** Monotonic ms the wait began, and after which it times out. */
  since: number;
  deadline: number;
  /** Whatever the caller needs to answer the waiting request. */
  ticket: T;
}

/**
 * What is saved: the holders. Waiters are live requests, and tokens come from the node's sequence, so a key with
 * no holder has nothing to save (its state is deleted).
 */
export interface LockState {
  v: 2;
  holders: Holder[];
}

/** Where a key's fencing tokens come from (an object, so that a key's actor can be its own source). */
export interface TokenSource {
  /** The next fencing token of this key. */
  nextToken(): number;
}

export class LockTable<T = unknown> {
  holders: Holder[] = [];
  queue: Waiter<T>[] = [];
  private nextWaiterId = 1;

  constructor(
    private readonly tokens: TokenSource,
    restored?: { holders: readonly Holder[] },
  ) {
    this.holders = restored ? [...restored.holders] : [];
  }

  get idle(): boolean {
    return this.holders.length === 0 && this.queue.length === 0;
  }

  /** Grants at once if nobody waits and the mode is compatible; otherwise undefined. */
  tryGrant(owner: string, mode: LockMode, holdMs: number, now: number): Holder | undefined {
    if (this.queue.length > 0 || !this.compatible(mode)) return undefined;
    return this.grant(owner, mode, holdMs, now);
  }

  enqueue(
    owner: string,
    mode: LockMode,
    holdMs: number,
    since: number,
    deadline: number,
    ticket: T,
  ): Waiter<T> {
    const w: Waiter<T> = { id: this.nextWaiterId++, owner, mode, holdMs, since, deadline, ticket };
    this.queue.push(w);
    return w;
  }

  /** How many holds `owner` has on this key. */
  holdsOf(owner: string): number {
    return this.holders.filter((h) => h.owner === owner).length;
  }

  /** Removes a waiter (its wait timed out or was cancelled); true if it was still waiting. */
  dropWaiter(id: number): boolean {
    const i = this.queue.findIndex((w) => w.id === id);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /** Releases the hold with this token if `owner` has it. */
  release(owner: string, token: number): boolean {
    const i = this.holders.findIndex((h) => h.token === token && h.owner === owner);
    if (i < 0) return false;
    this.holders.splice(i, 1);
    return true;
  }

  /** Everything `owner` holds or waits for ends: the number of holds released and the waiters cancelled. */
  releaseOwner(owner: string): { released: number; cancelled: Waiter<T>[] } {
    const before = this.holders.length;
    this.holders = this.holders.filter((h) => h.owner !== owner);
    const cancelled = this.queue.filter((w) => w.owner === owner);
    this.queue = this.queue.filter((w) => w.owner !== owner);
    return { released: before - this.holders.length, cancelled };
  }

  /** Ends holds whose time is up; returns them. */
  expire(nowWall: number): Holder[] {
    const expired = this.holders.filter((h) => h.expiresAt <= nowWall);
    if (expired.length > 0) this.holders = this.holders.filter((h) => h.expiresAt > nowWall);
    return expired;
  }

  /** Grants waiting requests from the head of the queue while they fit (a run of readers together). */
  promote(nowWall: number): { waiter: Waiter<T>; holder: Holder }[] {
    const out: { waiter: Waiter<T>; holder: Holder }[] = [];
    while (this.queue.length > 0) {
      const head = this.queue[0] as Waiter<T>;
      if (!this.compatible(head.mode)) break;
      this.queue.shift();
      out.push({ waiter: head, holder: this.grant(head.owner, head.mode, head.holdMs, nowWall) });
    }
    return out;
  }

  /** Earliest hold expiry (wall ms), if any. */
  nextExpiry(): number | undefined {
    return this.holders.length === 0 ? undefined : Math.min(...this.holders.map((h) => h.expiresAt));
  }

  state(): LockState {
    return { v: 2, holders: [...this.holders] };
  }

  private compatible(mode: LockMode): boolean {
    if (this.holders.length === 0) return true;
    return mode === 'read' && this.holders.every((h) => h.mode === 'read');
  }

  private grant(owner: string, mode: LockMode, holdMs: number, nowWall: number): Holder {
    const holder: Holder = { owner, mode, token: this.tokens.nextToken(), expiresAt: nowWall + holdMs };
    // A key mostly has one holder: a literal holds it without the 16 spare slots a push onto [] allocates.
    if (this.holders.length === 0) this.holders = [holder];
    else this.holders.push(holder);
    return holder;
  }
}
