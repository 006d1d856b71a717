import type { Route } from '../route.ts';
import { errors } from '../route.ts';
import { NodeStats } from '../schemas.ts';

/** The node's running totals as JSON (the web view's charts; `/metrics` has the same for Prometheus). */
export const statsRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/stats',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/stats',
        summary: 'This node’s counters: messages, restarts, failures, mailbox depth, leadership changes',
        responses: { '200': { description: 'Running totals', schema: NodeStats }, ...errors(401) },
      },
    ],
    handler: async (_req, _reply, ctx) => ctx.metrics.snapshot(),
  },
];
