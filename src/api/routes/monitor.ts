import { SystemStateSchema } from '../../monitor/schemas.ts';
import { systemStateFor } from '../disclosure.ts';
import type { Route } from '../route.ts';
import { errors } from '../route.ts';

/**
 * The system state (06-services.md "Monitoring services"): every node of every site asked for its deviations,
 * plus the nodes that did not answer and the groups without an active instance. Empty `deviations` means healthy.
 * The text of an error in a deviation's details is for admin tokens only (disclosure.ts).
 */
export const monitorRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/monitor/v1/system/state',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/monitor/v1/system/state',
        summary:
          'Deviations from a healthy system on every node (failed or restarting actors, CPU load, coordination, services such as ACME and the monitors, unreachable nodes, groups without an active); empty = healthy',
        responses: {
          '200': { description: 'The system state as this node collected it', schema: SystemStateSchema },
          ...errors(401),
        },
      },
    ],
    handler: async (req, _reply, ctx) => systemStateFor(req.principal, await ctx.systemState()),
  },
];
