import type { Route } from '../route.ts';
import { Health } from '../schemas.ts';
import { NotReady } from '../errors.ts';
import { errors } from '../route.ts';

/** Liveness, readiness and Prometheus metrics. */
/**
 * Health for load balancers and orchestrators (03-interfaces.md): `/healthz` (the process is alive), `/readyz` (it
 * has joined its group: active or passive) and `/active` (200 only on its group's active instance: what keepalived
 * or HAProxy check, as Patroni's `/primary` is used). They answer **without a token** — health checkers carry none —
 * and so say nothing but their status. `/metrics` keeps its token.
 */
export const healthRoutes: Route[] = [
  {
    method: 'GET',
    url: '/healthz',
    scope: 'public',
    docs: [
      {
        method: 'get',
        path: '/healthz',
        summary: 'The process is alive (no token)',
        responses: { '200': { description: 'Alive', schema: Health } },
      },
    ],
    handler: async () => ({ status: 'ok' }),
  },
  {
    method: 'GET',
    url: '/readyz',
    scope: 'public',
    docs: [
      {
        method: 'get',
        path: '/readyz',
        summary: 'Joined its group, role known: active or passive (no token)',
        responses: { '200': { description: 'Ready', schema: Health }, ...errors(503) },
      },
    ],
    handler: async (_req, _reply, ctx) => {
      const state = ctx.state();
      if (state !== 'active' && state !== 'passive') throw new NotReady('not ready');
      return { status: 'ready' };
    },
  },
  {
    method: 'GET',
    url: '/active',
    scope: 'public',
    docs: [
      {
        method: 'get',
        path: '/active',
        summary: 'The active instance of its group: 200 here, 503 on any other (no token)',
        responses: { '200': { description: 'Active', schema: Health }, ...errors(503) },
      },
    ],
    handler: async (_req, _reply, ctx) => {
      if (ctx.state() !== 'active') throw new NotReady('not the active instance');
      return { status: 'active' };
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
