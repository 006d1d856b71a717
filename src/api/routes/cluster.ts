import type { Route } from '../route.ts';
import { errors } from '../route.ts';
import { ClusterView } from '../schemas.ts';

/** Members, groups, who is active, epochs, coordination health. */
export const clusterRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/cluster',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/cluster',
        summary: 'Members of this node’s group, the active one, the epoch, coordination health',
        responses: {
          '200': { description: 'The cluster as this node sees it', schema: ClusterView },
          ...errors(401),
        },
      },
    ],
    handler: async (_req, _reply, ctx) => ctx.clusterView(),
  },
];
