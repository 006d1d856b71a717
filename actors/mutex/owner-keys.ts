/**
 * Which keys each owner has touched, and the service's interest in each (see MutexService): what lets
 * `release-owner` reach every key of an owner without asking every key.
 *
 * Most owners touch one key, and there is an owner per held lock: an owner's one interest is kept as it is, and a
 * Map (≈180 B even when small) is made only at its second key.
 */

/** What the service remembers of one owner on one key. */
export interface Interest {
  readonly key: string;
  /** Lock requests sent and not yet answered. */
  pending: number;
  /** Wall-clock end of the latest grant: past it (and with nothing pending) the interest is stale. */
  until: number;
}

export class OwnerKeys {
  private readonly owners = new Map<string, Interest | Map<string, Interest>>();

  /** Owners tracked. */
  get size(): number {
    return this.owners.size;
  }

  /** The interest of `owner` in `key`, made if new. */
  interest(owner: string, key: string): Interest {
    const held = this.owners.get(owner);
    if (held === undefined) {
      const i: Interest = { key, pending: 0, until: 0 };
      this.owners.set(owner, i);
      return i;
    }
    let keys: Map<string, Interest>;
    if (held instanceof Map) keys = held;
    else if (held.key === key) return held;
    else this.owners.set(owner, (keys = new Map([[held.key, held]])));
    let i = keys.get(key);
    if (!i) keys.set(key, (i = { key, pending: 0, until: 0 }));
    return i;
  }

  /** The interest of `owner` in `key`, if any. */
  get(owner: string, key: string): Interest | undefined {
    const held = this.owners.get(owner);
    if (held instanceof Map) return held.get(key);
    return held?.key === key ? held : undefined;
  }

  forget(owner: string, key: string): void {
    const held = this.owners.get(owner);
    if (held instanceof Map) {
      held.delete(key);
      if (held.size === 0) this.owners.delete(owner);
    } else if (held?.key === key) this.owners.delete(owner);
  }

  /** The keys `owner` has touched; the owner is forgotten. */
  take(owner: string): string[] {
    const held = this.owners.get(owner);
    this.owners.delete(owner);
    if (held === undefined) return [];
    return held instanceof Map ? [...held.keys()] : [held.key];
  }

  /** Forgets every interest that is `stale`. */
  sweep(stale: (i: Interest) => boolean): void {
    for (const [owner, held] of this.owners) {
      if (held instanceof Map) {
        for (const [key, i] of held) if (stale(i)) held.delete(key);
        if (held.size === 0) this.owners.delete(owner);
      } else if (stale(held)) this.owners.delete(owner);
    }
  }
}
