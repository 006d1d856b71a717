import type { Route } from '../route.ts';
import { errors } from '../route.ts';
import { ClusterView } from '../schemas.ts';
import { coordinationFor } from '../disclosure.ts';

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
        summary:
          'Members of this node’s group, the active one, the epoch, coordination health (and, for admins, why it is unhealthy)',
        responses: {
          '200': { description: 'The cluster as this node sees it', schema: ClusterView },
          ...errors(401),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const view = await ctx.clusterView();
      return { ...view, coordination: coordinationFor(req.principal, view.coordination) };
    },
  },
];
