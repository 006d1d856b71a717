/**
 * The one place that knows mware's Redis key names. Everything of a cluster lives under `mw:{<cluster>}:`; the
 * braces make it one Redis Cluster hash slot, so a Lua script may touch a group's lease, epoch and fence together.
 */
export class RedisKeys {
  private readonly prefix: string;

  constructor(cluster: string) {
    this.prefix = `mw:{${cluster}}`;
  }

  /** The group's leadership lease: `<epoch>:<holder>:<nonce>`, with the lease's time to live. */
  lease(group: number): string {
    return `${this.prefix}:g:${group}:lease`;
  }

  /** The group's epoch counter, incremented at every acquisition. */
  epoch(group: number): string {
    return `${this.prefix}:g:${group}:epoch`;
  }

  /** The lowest epoch whose state writes the group still takes (raised at every acquisition). */
  fence(group: number): string {
    return `${this.prefix}:g:${group}:fence`;
  }

  /** The group's saved actor state: a hash of state key → `{"e": epoch, "v": value}`. */
  state(group: number): string {
    return `${this.prefix}:g:${group}:state`;
  }
}
