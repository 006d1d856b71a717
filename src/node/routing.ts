import type { Placement } from '../../topology/placement.ts';
import { groupOf, groupOfMutexKey } from '../../topology/placement.ts';
import type { Topology } from '../../topology/schema.ts';
import { mwareRoles } from '../../topology/schema.ts';
import { NotReady } from '../api/errors.ts';
import type { ForwardedRequest, Routing } from '../api/forwarding.ts';
import type { CoordinationBackend } from '../coordination/backend.ts';
import { MwareError } from '../errors.ts';
import type { Clock, TimerHandle } from '../supervision/clock.ts';
import { PeerLost } from '../cluster/errors.ts';
import type { ClusterRuntime } from './cluster-runtime.ts';
import type { NodeState } from './lifecycle.ts';

/**
 * Which group owns what (topology placement: domains by the domain tree, mutex keys by rendezvous hash over the
 * site's groups) and where that group is served now (its lease holder in Redis), so the API can run a request
 * here or carry it to the right node (02-runtime.md "Routing"). On the embedded default every request is this
 * node's.
 */

/** Errors that prove a forwarded request reached no actor: it may be sent again (to the new active, say). */
const NOT_DELIVERED = new Set([
  'MW_ERR_PEER_UNAVAILABLE',
  'MW_ERR_NOT_READY',
  'MW_ERR_DRAINING',
  'MW_ERR_MUTEX_UNAVAILABLE',
]);
/** How long a looked-up holder is trusted before it is read again. */
const HOLDER_TTL_MS = 100;
const RETRY_MS = 50;

export class NodeRouting implements Routing {
  private readonly holders = new Map<number, { at: number; holder: string | undefined }>();

  constructor(
    private readonly o: {
      topology: Topology;
      placement: Placement;
      state: () => NodeState;
      coordination: CoordinationBackend;
      cluster: ClusterRuntime | undefined;
      clock: Clock;
    },
  ) {}

  groupOfPath(path: string): number | undefined {
    const [top, id] = path.split('/').slice(1);
    const mine = this.o.placement.group;
    if (top === 'domains') return id === undefined ? mine : (groupOf(this.o.topology, id) ?? mine);
    // A domain's task scheduler runs with the domain; `/svctasks/_runner` (no dot: not a domain) is each node's own.
    if (top === 'svctasks')
      return id === undefined ? mine : id.includes('.') ? (groupOf(this.o.topology, id) ?? mine) : undefined;
    if (top === 'mutexes') return id === undefined ? mine : this.groupOfMutexKey(safeDecode(id));
    // The group's controllers and its FreeSWITCH farm run on its active instance only (04-postgres.md,
    // 05-freeswitch.md: a migration carries the group's fencing epoch).
    // So do its platform services (06-services.md): syslog → SNMP, ACME, …
    if (top === 'pg' || top === 'backup' || top === 'freeswitch' || top === 'services') return mine;
    return undefined;
  }

  groupOfMutexKey(key: string): number {
    return groupOfMutexKey(this.o.topology, this.o.placement.site, key) ?? this.o.placement.group;
  }

  nodes(): readonly { name: string; group: number }[] {
    return mwareRoles(this.o.topology).map((r) => ({ name: r.name, group: r.group }));
  }

  async askNode(name: string, request: ForwardedRequest, timeoutMs: number): Promise<unknown> {
    const cluster = this.o.cluster;
    if (!cluster) throw new NotReady('this node has no node channel (no cluster): it can ask no other node');
    let timer: TimerHandle | undefined;
    // The channel's own deadline starts once connected; connecting to a silent host must not outlast the caller's.
    const late = new Promise<never>((_, reject) => {
      timer = this.o.clock.setTimeout(
        () => reject(new PeerLost(`${name} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([cluster.channel.request(name, request, timeoutMs), late]);
    } finally {
      if (timer !== undefined) this.o.clock.clearTimeout(timer);
    }
  }

  mutexGroups(): readonly number[] {
    return this.o.placement.mutexGroups;
  }

  servesHere(group: number): boolean {
    return group === this.o.placement.group && this.o.state() === 'active' && this.o.coordination.leading();
  }

  async forward(
    group: number,
    request: ForwardedRequest,
    timeoutMs: number,
    here: () => Promise<unknown>,
  ): Promise<unknown> {
    const cluster = this.o.cluster;
    const self = this.o.placement.role.name;
    if (!cluster) throw new NotReady(`this node is ${this.o.state()}, not active; retry shortly`);
    const deadline = this.o.clock.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      // This node took the group over while the request waited for an active instance: it serves it itself.
      if (this.servesHere(group)) return here();
      const holder = await this.holderOf(cluster, group).catch((err: unknown) => ((last = err), undefined));
      // A retry with next to no time left could not be answered: it would only end in MW_ERR_PEER_LOST ("may have
      // been handled"), which the caller cannot safely retry, where the truth is that no active took it.
      if (last !== undefined && deadline - this.o.clock.now() < RETRY_MS) break;
      if (holder !== undefined && holder !== self) {
        try {
          return await cluster.channel.request(holder, request, Math.max(1, deadline - this.o.clock.now()));
        } catch (err) {
          if (!(err instanceof MwareError && NOT_DELIVERED.has(err.code))) throw err;
          last = err;
          this.holders.delete(group);
        }
      }
      // A takeover under way: wait for the new active, until the caller's deadline.
      if (this.o.clock.now() + RETRY_MS >= deadline) break;
      await new Promise((r) => this.o.clock.setTimeout(() => r(undefined), RETRY_MS));
    }
    throw new NotReady(
      `no active instance of group ${group} took the request in time${last instanceof Error ? ` (${last.message})` : ''}`,
    );
  }

  private async holderOf(cluster: ClusterRuntime, group: number): Promise<string | undefined> {
    const now = this.o.clock.now();
    const cached = this.holders.get(group);
    if (cached && now - cached.at < HOLDER_TTL_MS) return cached.holder;
    const holder = (await cluster.coordination.holderOf(group))?.holder;
    this.holders.set(group, { at: now, holder });
    return holder;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
