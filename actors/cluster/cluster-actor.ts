import { z } from 'zod';
import { defineActor } from '../../src/actor-system/kind.ts';

/**
 * Membership as this node sees it: its group, the members in failover order, which one is active and under
 * which epoch. Who leads is not the actor's to remember (a restarted actor would forget it): it reads it from the
 * node's coordination at every request.
 */

export interface MemberView {
  name: string;
  order: number;
  server: string;
  address: string;
  /** `active`, `passive`, or `unknown` for members this node has no word from. */
  role: 'active' | 'passive' | 'unknown';
  self: boolean;
}

/** The group's leadership as coordination knows it now. */
export interface LeadershipView {
  active: string | null;
  epoch: number | null;
}

export interface ClusterArgs {
  cluster: string;
  node: string;
  site: string;
  group: number;
  coordination: 'embedded' | 'redis';
  members: Omit<MemberView, 'role' | 'self'>[];
  /** Reads the group's leadership from the node's coordination (the actor runs in the node's process). */
  leadership: () => LeadershipView;
}

export interface ClusterStatus extends LeadershipView {
  cluster: string;
  node: string;
  site: string;
  group: number;
  coordination: 'embedded' | 'redis';
  members: MemberView[];
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
        status: () => {
          const { active, epoch } = args.leadership();
          return {
            cluster: args.cluster,
            node: args.node,
            site: args.site,
            group: args.group,
            coordination: args.coordination,
            epoch,
            active,
            members: args.members.map((m) => ({
              ...m,
              self: m.name === args.node,
              role:
                m.name === active
                  ? 'active'
                  : m.name === args.node || active !== null
                    ? 'passive'
                    : 'unknown',
            })),
          };
        },
      },
    };
  },
});
