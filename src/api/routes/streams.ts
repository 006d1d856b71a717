import type { Route } from '../route.ts';
import { errors, parse } from '../route.ts';
import { LogsQuery } from '../schemas.ts';
import { openSse } from '../sse.ts';
import { coordinationEventFor, eventFor } from '../disclosure.ts';

/**
 * Live streams as server-sent events: the inspection stream (what the shell's `events` and the web view follow)
 * and the node's log (`logs`).
 */
export const streamRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/events',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/events',
        summary:
          'Server-sent events: `hello` on connect, then every inspection event (started, stopped, failed, restarted, escalated, state-changed), `node` for lifecycle changes, `coordination` when the group’s coordination becomes unhealthy or healthy again (why: for admins only) and `leadership` when the group’s active instance changes',
        responses: {
          '200': { description: 'text/event-stream', contentType: 'text/event-stream' },
          ...errors(401, 503),
        },
      },
    ],
    handler: async (req, reply, ctx) => {
      const sse = openSse(req, reply, ctx);
      const coordination = ctx.coordination();
      sse.send('hello', {
        node: ctx.nodeName,
        group: ctx.group,
        cluster: ctx.cluster,
        state: ctx.state(),
        coordination: { kind: coordination.kind, healthy: coordination.healthy },
      });
      const viewer = req.principal;
      sse.onClose(ctx.events.subscribe((e) => sse.send(e.type, eventFor(viewer, e))));
      sse.onClose(ctx.onNodeState((state) => sse.send('node', { node: ctx.nodeName, state })));
      sse.onClose(
        ctx.onCoordination((e) => {
          const { type, ...data } = coordinationEventFor(viewer, e);
          sse.send(type === 'health' ? 'coordination' : type, {
            node: ctx.nodeName,
            group: ctx.group,
            ...data,
          });
        }),
      );
    },
  },
  {
    method: 'GET',
    url: '/api/v1/logs',
    scope: 'admin',
    docs: [
      {
        method: 'get',
        path: '/api/v1/logs',
        summary:
          'The node’s recent log lines (JSON), and with ?follow=true every new one, as server-sent `log` events',
        query: LogsQuery,
        responses: {
          '200': { description: 'text/event-stream', contentType: 'text/event-stream' },
          ...errors(400, 401, 403, 503),
        },
      },
    ],
    handler: async (req, reply, ctx) => {
      const q = parse(LogsQuery, req.query, 'query');
      const sse = openSse(req, reply, ctx);
      for (const line of ctx.logs.recent(q.n)) sse.send('log', line);
      if (q.follow !== 'true') {
        sse.close();
        return;
      }
      sse.onClose(ctx.logs.follow((line) => sse.send('log', line)));
    },
  },
];
