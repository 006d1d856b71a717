import { defineActor } from '../../src/actor-system/kind.ts';

/**
 * Membership as this node sees it: its group, the members in failover order, which one is active and under
 * which epoch. The node tells it every leadership change; the shell and the API read it.
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

export interface ClusterArgs {
  cluster: string;
  node: string;
  site: string;
  group: number;
  coordination: 'embedded' | 'redis';
  members: Omit<MemberView, 'role' | 'self'>[];
}

export interface ClusterStatus {
  cluster: string;
  node: string;
  site: string;
  group: number;
  coordination: 'embedded' | 'redis';
  epoch: number | null;
  active: string | null;
  members: MemberView[];
}

export type ClusterProtocol = {
  status: { request: null; reply: ClusterStatus };
  leadership: { request: { active: string | null; epoch: number | null }; reply: 'ok' };
};

export const clusterActor = defineActor<ClusterProtocol, ClusterArgs>({
  kind: 'cluster',
  moduleUrl: import.meta.url,
  exportName: 'clusterActor',
  create(args) {
    let active: string | null = null;
    let epoch: number | null = null;
    return {
      handlers: {
        status: () => ({
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
              m.name === active ? 'active' : m.name === args.node || active !== null ? 'passive' : 'unknown',
          })),
        }),
        leadership: (l) => {
          active = l.active;
          epoch = l.epoch;
          return 'ok';
        },
      },
    };
  },
});
