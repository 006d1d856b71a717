import { mutexOp, releaseOwnerEverywhere } from '../dispatch.ts';
import type { Route } from '../route.ts';
import { errors, parse } from '../route.ts';
import {
  LockGranted,
  LockNotGranted,
  LockRequest,
  MutexInfo,
  MutexKeyParams,
  MutexList,
  ReleaseOwnerReply,
  ReleaseOwnerRequest,
  UnlockReply,
  UnlockRequest,
} from '../schemas.ts';

/**
 * The Mutex facade for scripting components (06-services.md): lock, unlock, release everything of an owner whose
 * script handler ended, and a look at holders and waiters.
 */

const keyOf = (params: unknown) => parse(MutexKeyParams, params, 'path').key;

export const mutexRoutes: Route[] = [
  {
    method: 'POST',
    url: '/api/v1/mutex/release-owner',
    scope: 'mutex',
    docs: [
      {
        method: 'post',
        path: '/api/v1/mutex/release-owner',
        summary: 'Release every hold and cancel every wait of an owner (its script handler ended)',
        body: ReleaseOwnerRequest,
        responses: {
          '200': { description: 'What was released', schema: ReleaseOwnerReply },
          ...errors(400, 401, 403, 503),
        },
      },
    ],
    handler: async (req, _reply, ctx) =>
      releaseOwnerEverywhere(ctx, req.principal, parse(ReleaseOwnerRequest, req.body, 'body').owner),
  },
  {
    method: 'POST',
    url: '/api/v1/mutex/:key/lock',
    scope: 'mutex',
    docs: [
      {
        method: 'post',
        path: '/api/v1/mutex/{key}/lock',
        summary: 'Lock (write: exclusive; read: shared), waiting in FIFO order up to wait_ms',
        params: MutexKeyParams,
        body: LockRequest,
        responses: {
          '200': { description: 'Granted, with a fencing token', schema: LockGranted },
          '408': { description: 'Not granted within wait_ms', schema: LockNotGranted },
          ...errors(400, 401, 403, 503),
        },
      },
    ],
    handler: async (req, reply, ctx) => {
      const key = keyOf(req.params);
      const body = parse(LockRequest, req.body, 'body');
      const r = (await mutexOp(ctx, req.principal, 'lock', key, body)) as Awaited<
        ReturnType<typeof ctx.mutex.lock>
      >;
      if (r.granted) return { granted: true, token: r.token, expires_at: r.expires_at };
      void reply.code(408);
      return { granted: false, reason: r.reason };
    },
  },
  {
    method: 'POST',
    url: '/api/v1/mutex/:key/unlock',
    scope: 'mutex',
    docs: [
      {
        method: 'post',
        path: '/api/v1/mutex/{key}/unlock',
        summary: 'Release a hold: owner and token must be the current ones (409 otherwise)',
        params: MutexKeyParams,
        body: UnlockRequest,
        responses: {
          '200': { description: 'Released', schema: UnlockReply },
          ...errors(400, 401, 403, 409, 503),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      await mutexOp(ctx, req.principal, 'unlock', keyOf(req.params), parse(UnlockRequest, req.body, 'body'));
      return { released: true };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/mutex',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/mutex',
        summary: 'Keys with a live mutex actor on this node',
        responses: { '200': { description: 'Keys', schema: MutexList }, ...errors(401) },
      },
    ],
    handler: async (_req, _reply, ctx) => ({ keys: ctx.mutex.liveKeys().sort() }),
  },
  {
    method: 'GET',
    url: '/api/v1/mutex/:key',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/mutex/{key}',
        summary: 'Holders and waiters of a key',
        params: MutexKeyParams,
        responses: {
          '200': { description: 'Holders and waiters', schema: MutexInfo },
          ...errors(400, 401, 503),
        },
      },
    ],
    handler: async (req, _reply, ctx) => mutexOp(ctx, req.principal, 'inspect', keyOf(req.params), null),
  },
];
