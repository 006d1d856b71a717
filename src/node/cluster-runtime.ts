import type { Redis } from 'ioredis';
import { channelAddresses, channelPort } from '../../topology/placement.ts';
import type { Placement } from '../../topology/placement.ts';
import type { Topology } from '../../topology/schema.ts';
import { NodeChannel } from '../cluster/channel.ts';
import type { ChannelMessage } from '../cluster/connection.ts';
import type { SelfReport } from '../cluster/membership.ts';
import { Membership } from '../cluster/membership.ts';
import { RedisKeys } from '../coordination/keys.ts';
import { RedisCoordination } from '../coordination/redis.ts';
import { connectedReplicas, redisClient, stayConnected } from '../coordination/redis-client.ts';
import type { Log } from '../log/log.ts';
import { RedisStateStore } from '../state/redis-store.ts';
import type { Clock, TimerHandle } from '../supervision/clock.ts';

/**
 * What a node of a cluster (`coordination.redis`) has beyond a single node: the Redis connection, the group's lease
 * and state in Redis, the node channel to every other node, and its view of the group's members.
 */
export class ClusterRuntime {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly coordination: RedisCoordination;
  readonly store: RedisStateStore;
  readonly channel: NodeChannel;
  readonly membership: Membership;
  private replicas = 0;
  private readonly stopReconnecting: () => void;
  private replicaTimer: TimerHandle | undefined;
  /** Answers requests forwarded by other nodes (set by the node once it can route). */
  private handler: (from: string, body: unknown, timeoutMs: number) => Promise<unknown> = () =>
    Promise.reject(new Error('this node does not take forwarded requests yet'));

  constructor(
    topology: Topology,
    placement: Placement,
    private readonly o: { secret: string; clock: Clock; log: Log; report: () => SelfReport },
  ) {
    const settings = topology.coordination;
    if (!settings) throw new Error('a cluster runtime needs coordination.redis');
    const { role } = placement;
    this.keys = new RedisKeys(topology.cluster);
    this.redis = redisClient(settings.redis, {
      commandTimeoutMs: Math.max(100, Math.min(settings.renew_ms, settings.lease_ttl_ms / 3)),
      name: `mware-${role.name}`,
    });
    // Connection errors are reported by coordination as its health; ioredis would print them otherwise.
    this.redis.on('error', () => undefined);
    this.redis.on('ready', () => {
      const s = this.redis.stream as { remoteAddress?: string; remotePort?: number } | undefined;
      o.log.info({ redis: `${s?.remoteAddress ?? '?'}:${s?.remotePort ?? '?'}` }, 'connected to Redis');
    });
    this.stopReconnecting = stayConnected(this.redis, () =>
      o.log.warn({}, 'the Redis connection ended while the node runs; connecting again'),
    );
    const peers = channelAddresses(topology);
    peers.delete(role.name);
    this.membership = new Membership({
      self: role,
      members: placement.members,
      clock: o.clock,
      report: o.report,
      send: (peer, msg) => this.channel.send(peer, msg),
      onEpoch: (e) => this.coordination.noteEpoch(e),
    });
    this.coordination = new RedisCoordination({
      redis: this.redis,
      keys: this.keys,
      group: placement.group,
      self: role,
      members: placement.members,
      ttlMs: settings.lease_ttl_ms,
      renewMs: settings.renew_ms,
      clock: o.clock,
      log: o.log,
      view: {
        candidates: () => this.membership.candidates(),
        awaited: (name) => this.membership.awaited(name),
        confirmStandby: async (epoch, ttlMs, timeoutMs) => {
          const others = placement.members.filter((m) => m.name !== role.name);
          const answers = await Promise.all(
            others.map((m) =>
              this.channel.request(m.name, { op: 'standby', epoch, ttlMs }, timeoutMs).then(
                (r) => r === true,
                () => false,
              ),
            ),
          );
          return answers.every(Boolean);
        },
      },
    });
    this.store = new RedisStateStore(this.redis, this.keys, placement.group, () => this.replicas);
    this.channel = new NodeChannel({
      self: role.name,
      host: placement.address,
      port: channelPort(role),
      secret: o.secret,
      peers,
      log: o.log.child({ path: '/cluster/channel' }),
      onRequest: (from, body, timeoutMs) => {
        // A standby promise is coordination's business; anything else is a forwarded request for the node.
        const b = body as { op?: unknown; epoch?: unknown; ttlMs?: unknown };
        if (b.op === 'standby' && typeof b.epoch === 'number' && typeof b.ttlMs === 'number')
          return Promise.resolve(this.coordination.promiseStandby(from, b.epoch, Math.min(b.ttlMs, 60_000)));
        return this.handler(from, body, timeoutMs);
      },
      onMessage: (from, msg: ChannelMessage) => this.membership.receive(from, msg),
      onPeerDown: (peer, proven) => {
        if (!proven) return;
        this.membership.forget(peer);
        void this.coordination.provenDead(peer).catch(() => undefined);
      },
    });
  }

  /** Listens on the node channel, connects to Redis (retrying in the background), starts heartbeating. */
  async start(): Promise<void> {
    await this.channel.listen();
    // Wait a little for Redis, so the first attempt at leadership does not fail for want of a connection; a Redis
    // that is down is retried in the background while the node serves as a passive member.
    const ready = new Promise<void>((resolve) => this.redis.once('ready', () => resolve()));
    this.redis.connect().catch(() => undefined);
    await Promise.race([ready, new Promise((r) => setTimeout(r, 2_000))]);
    this.membership.start();
    const watch = () => {
      connectedReplicas(this.redis).then(
        (n) => (this.replicas = n),
        () => undefined,
      );
      this.replicaTimer = this.o.clock.setTimeout(watch, 2_000);
    };
    watch();
  }

  onRequest(handler: (from: string, body: unknown, timeoutMs: number) => Promise<unknown>): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.replicaTimer !== undefined) this.o.clock.clearTimeout(this.replicaTimer);
    this.membership.stop();
    await this.coordination.close().catch(() => undefined);
    await this.channel.close();
    this.stopReconnecting();
    this.redis.disconnect();
  }
}
