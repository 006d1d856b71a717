import { Redis } from 'ioredis';
import type { Topology } from '../../topology/schema.ts';

/**
 * The Redis connection of a node (coordination and state), from the topology's `coordination.redis`: a plain URL or
 * Sentinel (`sentinels` + `name`, following the primary Sentinel elects). Settings chosen for leases, not for
 * throughput:
 * - no offline queue and no retry of a command across a reconnect: a renewal sent while the lease may already be
 *   gone must fail, never be replayed later (ioredis' defaults would queue and resend it);
 * - a command timeout, so a silent Redis fails a command instead of leaving it pending past the lease;
 * - reconnect every 100 ms → 1 s for as long as the node lives.
 */
export type RedisSettings = NonNullable<Topology['coordination']>['redis'];

export function redisClient(s: RedisSettings, o: { commandTimeoutMs: number; name: string }): Redis {
  const common = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: Math.max(500, o.commandTimeoutMs),
    retryStrategy: (attempt: number) => Math.min(1_000, 100 * attempt),
    connectionName: o.name,
    lazyConnect: true,
  };
  if ('url' in s) return new Redis(s.url, common);
  return new Redis({
    ...common,
    sentinels: s.sentinels.map((x) => ({ host: x.host, port: x.port })),
    name: s.name,
    password: s.password,
    sentinelPassword: s.sentinel_password,
    db: s.db,
    // Follow a failover as soon as Sentinel announces it, not at the next failed command.
    failoverDetector: true,
    sentinelRetryStrategy: (attempt: number) => Math.min(1_000, 100 * attempt),
  });
}

/**
 * Keeps `redis` connected for as long as the node lives: ioredis can end a connection for good when Sentinel's
 * failover detector disconnects it while it is still connecting to the new primary (`connecting -> end`); a
 * connection that ends without {@link stop} being called is connected again. Returns `stop`, to call before closing.
 */
export function stayConnected(redis: Redis, onRevive: () => void, retryMs = 100): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const revive = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped || redis.status !== 'end') return;
      onRevive();
      redis.connect().catch(() => undefined);
    }, retryMs);
  };
  redis.on('end', revive);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    redis.off('end', revive);
  };
}

/** Replicas connected to the Redis primary now (0 for a lone Redis), from `INFO replication`. */
export async function connectedReplicas(redis: Redis): Promise<number> {
  const info = await redis.info('replication');
  return Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
}
