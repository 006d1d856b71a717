import type { Redis } from 'ioredis';
import type { RedisKeys } from '../coordination/keys.ts';
import { StaleEpoch, StateStoreError } from './errors.ts';
import type { StateStore, StoredState } from './store.ts';

/**
 * A group's actor state in Redis (01-topology.md "Saved state" with `coordination.redis`): one hash per group,
 * field = state key, value = `{"e": epoch, "v": value}`.
 *
 * Fencing is Redis' own: every write runs as a script that first compares the writer's epoch with the group's
 * fence, which each acquisition raises to the new epoch — a deposed active's write is refused by Redis, not only by
 * the node that made it. A write is acknowledged only once a replica has it too (`WAIT 1`) whenever a replica is
 * connected, so a Sentinel failover cannot lose a write the caller was told is done.
 */

const WRITE = `
local f = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) < f then return redis.error_reply('STALE ' .. f) end
if ARGV[3] == '' then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
`;

export class RedisStateStore implements StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly names: RedisKeys,
    private readonly group: number,
    /** Replicas connected to the primary now (kept fresh by the caller). */
    private readonly replicas: () => number,
    private readonly waitMs = 1_000,
  ) {}

  async load(key: string): Promise<StoredState | undefined> {
    const raw = await this.call(() => this.redis.hget(this.names.state(this.group), key), 'read');
    if (raw === null) return undefined;
    const { e, v } = JSON.parse(raw) as { e: number; v: unknown };
    return { epoch: e, value: v };
  }

  async keys(prefix: string): Promise<string[]> {
    const all = await this.call(() => this.redis.hkeys(this.names.state(this.group)), 'list');
    return all.filter((k) => k.startsWith(prefix));
  }

  save(key: string, value: unknown, epoch: number): Promise<void> {
    return this.write(key, epoch, JSON.stringify({ e: epoch, v: value ?? null }));
  }

  delete(key: string, epoch: number): Promise<void> {
    return this.write(key, epoch, '');
  }

  async close(): Promise<void> {
    // The connection belongs to the node.
  }

  private async write(key: string, epoch: number, json: string): Promise<void> {
    const g = this.group;
    try {
      await this.redis.eval(WRITE, 2, this.names.state(g), this.names.fence(g), key, String(epoch), json);
    } catch (err) {
      const m = /STALE (\d+)/.exec((err as Error).message);
      if (m)
        throw new StaleEpoch(
          `state "${key}": group ${g} is fenced at epoch ${m[1]}; a write at epoch ${epoch} is refused`,
        );
      throw new StateStoreError(`cannot write state "${key}" to Redis: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (this.replicas() === 0) return;
    const acked = (await this.call(
      () => this.redis.call('WAIT', '1', String(this.waitMs)),
      'confirm',
    )) as number;
    if (acked < 1)
      throw new StateStoreError(
        `state "${key}" reached the Redis primary but no replica confirmed it within ${this.waitMs} ms; not acknowledged`,
      );
  }

  private async call<T>(fn: () => Promise<T>, what: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new StateStoreError(`cannot ${what} state in Redis: ${(err as Error).message}`, { cause: err });
    }
  }
}
