import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { DEFAULT_ASK_TIMEOUT_MS } from '../../actor-system/actor-ref.ts';
import { ActorNotFound } from '../../actor-system/errors.ts';
import { publicMessages } from '../../actor-system/kind.ts';
import { dispatchMessage, requirePrincipal, requireScope } from '../dispatch.ts';
import { SupervisorOperationRefused } from '../../supervision/errors.ts';
import type { ChildRecord } from '../../supervision/child.ts';
import type { ApiContext } from '../context.ts';
import type { Route } from '../route.ts';
import { errors, parse } from '../route.ts';
import {
  ActionReply,
  ActorDetails,
  AskReply,
  ClusterTree,
  MessageQuery,
  MessageRequest,
  TellReply,
  TreeNode,
  TreeQuery,
} from '../schemas.ts';
import { BadRequest, RouteNotFound } from '../errors.ts';
import { treeFor } from '../disclosure.ts';
import { clusterTree } from '../cluster-tree.ts';
import type { TreeNode as TreeNodeData } from '../../supervision/tree.ts';

/**
 * Actors by path: the tree, one actor, messages (tell and ask), and an operator's restart, stop and start.
 * `/api/v1/actors/{path}` takes the actor's path as URL segments (`/api/v1/actors/domains/test.rootdomain.ru`).
 */

const PREFIX = '/api/v1/actors';
const ACTIONS = ['messages', 'restart', 'stop', 'start'] as const;
type Action = (typeof ACTIONS)[number];

const PathParam = z.object({
  path: z.string().meta({ description: 'Actor path, as URL segments (domains/test.rootdomain.ru)' }),
});

/** The actor path in the URL after the prefix: segments decoded one by one (a segment may hold an encoded '/'). */
function actorPath(req: FastifyRequest): string[] {
  const q = req.url.indexOf('?');
  const url = q < 0 ? req.url : req.url.slice(0, q);
  const rest = url.slice(PREFIX.length).replace(/^\/+|\/+$/g, '');
  if (rest === '') return [];
  const segments = rest.split('/');
  if (!url.includes('%')) return segments;
  try {
    return segments.map((s) => decodeURIComponent(s));
  } catch {
    throw new RouteNotFound(`${url} is not a valid actor path`);
  }
}

function record(ctx: ApiContext, path: string): ChildRecord {
  const r = ctx.directory.get(path);
  if (!r) throw new ActorNotFound(`no actor at ${path}`);
  return r;
}

export function subtree(ctx: ApiContext, path: string): TreeNodeData {
  if (path === '/' || path === '') return ctx.tree();
  return record(ctx, path).snapshot();
}

async function act(ctx: ApiContext, path: string, action: Exclude<Action, 'messages'>) {
  if (path === '/')
    throw new SupervisorOperationRefused('the root supervisor is the node itself: stop the node instead');
  if (path === '/api' && action !== 'start')
    throw new SupervisorOperationRefused(
      'the API cannot stop or restart itself while answering: stop or restart the node',
    );
  const r = record(ctx, path);
  if (action === 'restart') await r.owner.restartChild(r.id);
  else if (action === 'stop') await r.owner.terminateChild(r.id);
  else await r.owner.startStopped(r.id);
  return { path, state: (ctx.directory.get(path) ?? r).state };
}

export const actorRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/tree',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/tree',
        summary:
          'The live supervision tree (or the subtree at ?path=); with ?scope=cluster every node of the cluster, each with its group, role and tree',
        query: TreeQuery,
        responses: {
          '200': {
            description: 'The tree (ClusterTree with scope=cluster)',
            schema: z.union([TreeNode, ClusterTree]),
          },
          ...errors(400, 401, 404),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const q = parse(TreeQuery, req.query, 'query');
      if (q.scope === 'cluster') {
        if (q.path !== undefined) throw new BadRequest('?path= and ?scope=cluster do not go together');
        return clusterTree(ctx, requirePrincipal(req.principal));
      }
      return treeFor(req.principal, subtree(ctx, q.path ?? '/'));
    },
  },
  {
    method: 'GET',
    url: `${PREFIX}/*`,
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: `${PREFIX}/{path}`,
        summary: 'One actor: state, restarts, last error, mailbox, and how its supervisor treats it',
        params: PathParam,
        responses: { '200': { description: 'The actor', schema: ActorDetails }, ...errors(401, 404) },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const segments = actorPath(req);
      const path = '/' + segments.join('/');
      if (segments.length === 0)
        return {
          node: treeFor(req.principal, ctx.tree()),
          parent: null,
          restart: null,
          shutdown: null,
          messages: [],
        };
      const r = record(ctx, path);
      return {
        node: treeFor(req.principal, r.snapshot()),
        parent: r.owner.path,
        restart: r.spec.restart,
        shutdown: r.spec.shutdown,
        messages: [...publicMessages(r.spec.kind)].map(([type, m]) => ({
          type,
          scope: m.scope,
          summary: m.summary,
        })),
      };
    },
  },
  {
    method: 'POST',
    url: `${PREFIX}/*`,
    // The action decides: a message needs its own scope, restart/stop/start need `admin` (checked in the handler).
    scope: 'read',
    docs: [
      {
        method: 'post',
        path: `${PREFIX}/{path}/messages`,
        summary: 'Send a message (tell, 202) or, with ?reply=true, ask and wait for the reply (200)',
        params: PathParam,
        query: MessageQuery,
        body: MessageRequest,
        responses: {
          '200': { description: 'The reply (ask)', schema: AskReply },
          '202': { description: 'Accepted (tell)', schema: TellReply },
          ...errors(400, 401, 403, 404, 413, 503, 504),
        },
      },
      ...(['restart', 'stop', 'start'] as const).map((action) => ({
        method: 'post' as const,
        path: `${PREFIX}/{path}/${action}`,
        summary: `${action[0]?.toUpperCase()}${action.slice(1)} an actor through its supervisor (admin)`,
        params: PathParam,
        responses: { '200': { description: 'Done', schema: ActionReply }, ...errors(401, 403, 404, 409) },
      })),
    ],
    handler: async (req, reply, ctx) => {
      const segments = actorPath(req);
      const action = segments.pop() as Action | undefined;
      if (action === undefined || !ACTIONS.includes(action)) {
        throw new RouteNotFound(
          `POST ${PREFIX}/{path}/{${ACTIONS.join('|')}}: unknown action ${JSON.stringify(action ?? '')}`,
        );
      }
      const path = '/' + segments.join('/');
      if (action !== 'messages') {
        requireAdmin(req);
        return act(ctx, path, action);
      }
      const body = parse(MessageRequest, req.body, 'body');
      const ask = parse(MessageQuery, req.query, 'query').reply === 'true';
      const answer = await dispatchMessage(
        ctx,
        req.principal,
        path,
        { type: body.type, payload: body.payload, timeoutMs: body.timeout_ms ?? DEFAULT_ASK_TIMEOUT_MS },
        ask,
      );
      if ('accepted' in answer) void reply.code(202);
      return answer;
    },
  },
];

/** restart/stop/start share the POST route with messages; their admin scope is checked here. */
function requireAdmin(req: FastifyRequest): void {
  requireScope(req.principal, 'admin');
}
