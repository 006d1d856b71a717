import { MutexTokensExhausted } from './errors.ts';

/**
 * The fencing tokens of the mutexes of one node: `epoch × TOKEN_EPOCH_FACTOR + sequence`, the sequence counting per
 * key. The epoch (the node's leadership of its group) is the high part, so a token from a new active instance is
 * greater than any token handed out before the takeover. Within an epoch, a key's tokens strictly increase in every
 * state mode, because the sequence lives here, in the node, and not in the key's actor, whose state is deleted when
 * it holds nothing and which stops when idle.
 *
 * Memory stays bounded however many keys are used: past `capacity` keys, the least recently used key's sequence is
 * forgotten and folded into a floor that every forgotten or new key counts on from — still above each key's last
 * token, since the floor is at least the sequence of every key it replaced.
 */

export const TOKEN_EPOCH_FACTOR = 1_000_000_000;

export class FencingTokens {
  private epoch = 0;
  /** Key → last sequence, least recently used first. */
  private readonly last = new Map<string, number>();
  private floor = 0;

  constructor(private readonly capacity = 50_000) {}

  /** The next token of `key` under `epoch` (the epoch of the leadership the grant is made under). */
  next(key: string, epoch: number): number {
    this.enter(epoch);
    const seq = (this.last.get(key) ?? this.floor) + 1;
    if (seq >= TOKEN_EPOCH_FACTOR)
      throw new MutexTokensExhausted(
        `mutex "${key}" has used every token of epoch ${epoch}; a new epoch (a restart or handover of the group) starts a new range`,
      );
    this.last.delete(key);
    this.last.set(key, seq);
    if (this.last.size > this.capacity) {
      const [oldest, oldSeq] = this.last.entries().next().value as [string, number];
      this.last.delete(oldest);
      this.floor = Math.max(this.floor, oldSeq);
    }
    return epoch * TOKEN_EPOCH_FACTOR + seq;
  }

  /** A token handed out before (a restored hold): later tokens of `key` go above it. */
  observe(key: string, token: number): void {
    const epoch = Math.floor(token / TOKEN_EPOCH_FACTOR);
    if (epoch !== this.epoch) {
      if (epoch < this.epoch) return;
      this.enter(epoch);
    }
    const seq = token - epoch * TOKEN_EPOCH_FACTOR;
    if (seq > (this.last.get(key) ?? this.floor)) this.last.set(key, seq);
  }

  /** Keys whose sequence is remembered one by one (for tests and inspection). */
  get size(): number {
    return this.last.size;
  }

  private enter(epoch: number): void {
    if (epoch === this.epoch) return;
    if (epoch < this.epoch)
      throw new RangeError(`epoch ${epoch} is older than ${this.epoch}: a deposed leadership grants nothing`);
    this.epoch = epoch;
    this.last.clear();
    this.floor = 0;
  }
}
