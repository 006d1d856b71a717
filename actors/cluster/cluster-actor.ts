import { z } from 'zod';
import { defineActor } from '../../src/actor-system/kind.ts';

/**
 * Membership as this node sees it: its group, the members in failover order with their role, epoch, last heartbeat
 * and lag, which one is active and under which epoch. None of it is the actor's to remember (a restarted actor
 * would forget it): it reads the node's coordination and membership at every request.
 */

export interface MemberView {
  name: string;
  order: number;
  server: string;
  address: string;
  /** `active`, `passive`, or `unknown` for members this node has no recent word from. */
  role: 'active' | 'passive' | 'unknown';
  self: boolean;
  /** The epoch the member last advertised. */
  epoch: number | null;
  /** Its node lifecycle state as it last reported it. */
  state: string | null;
  /** Milliseconds since its last heartbeat (0 for this node; null: never heard). */
  last_heartbeat_ms: number | null;
  /** Round trip of its last heartbeat, ms. */
  lag_ms: number | null;
}

/** The group as coordination and heartbeats know it now. */
export interface GroupSnapshot {
  active: string | null;
  epoch: number | null;
  members: MemberView[];
}

export interface ClusterArgs {
  cluster: string;
  node: string;
  site: string;
  group: number;
  coordination: 'embedded' | 'redis';
  /** Reads the group from the node's coordination and membership (the actor runs in the node's process). */
  snapshot: () => GroupSnapshot;
}

export interface ClusterStatus extends GroupSnapshot {
  cluster: string;
  node: string;
  site: string;
  group: number;
  coordination: 'embedded' | 'redis';
}

export type ClusterProtocol = {
  status: { request: null; reply: ClusterStatus; scope: 'read' };
};

export const clusterActor = defineActor<ClusterProtocol, ClusterArgs>({
  kind: 'cluster',
  moduleUrl: import.meta.url,
  exportName: 'clusterActor',
  messages: {
    status: { payload: z.null(), scope: 'read', summary: 'Members of the group, who is active, the epoch' },
  },
  create(args) {
    return {
      handlers: {
        status: () => ({
          cluster: args.cluster,
          node: args.node,
          site: args.site,
          group: args.group,
          coordination: args.coordination,
          ...args.snapshot(),
        }),
      },
    };
  },
});
