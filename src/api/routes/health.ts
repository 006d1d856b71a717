import type { Route } from '../route.ts';
import { Health } from '../schemas.ts';
import { NotReady } from '../errors.ts';
import { errors } from '../route.ts';

/** Liveness, readiness and Prometheus metrics. */
export const healthRoutes: Route[] = [
  {
    method: 'GET',
    url: '/healthz',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/healthz',
        summary: 'The process is alive',
        responses: { '200': { description: 'Alive', schema: Health }, ...errors(401) },
      },
    ],
    handler: async (_req, _reply, ctx) => ({ status: 'ok', node: ctx.nodeName, state: ctx.state() }),
  },
  {
    method: 'GET',
    url: '/readyz',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/readyz',
        summary: 'Joined its group, role known (active or passive)',
        responses: { '200': { description: 'Ready', schema: Health }, ...errors(401, 503) },
      },
    ],
    handler: async (_req, _reply, ctx) => {
      const state = ctx.state();
      if (state !== 'active' && state !== 'passive') throw new NotReady(`the node is ${state}`);
      return { status: 'ready', node: ctx.nodeName, state };
    },
  },
  {
    method: 'GET',
    url: '/metrics',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/metrics',
        summary: 'Prometheus metrics',
        responses: {
          '200': { description: 'Text exposition format', contentType: 'text/plain' },
          ...errors(401),
        },
      },
    ],
    handler: async (_req, reply, ctx) => {
      void reply.type(ctx.metrics.contentType);
      return ctx.metrics.text();
    },
  },
];
