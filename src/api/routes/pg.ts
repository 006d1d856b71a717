import type { PgClusterStatus } from '../../../actors/pg/protocol.ts';
import type { ApiContext } from '../context.ts';
import type { Principal } from '../auth.ts';
import { askActor } from '../dispatch.ts';
import { errorResponse, PgNotConfigured, PgUnknownCluster } from '../errors.ts';
import type { Route } from '../route.ts';
import { errors, parse } from '../route.ts';
import {
  PgClusterList,
  PgClusterStatusSchema,
  PgKeyParams,
  PgSwitchoverBody,
  PgSwitchoverReplySchema,
} from '../controller-schemas.ts';

/**
 * The PostgreSQL replication controller's facade (04-postgres.md): every replicated cluster of the role with its
 * primary, standbys and lag, phase and failover history, and the planned switchover. Each cluster's decision actor
 * (`/pg/<key>/controller`) answers; it runs on the group's active instance, so a passive node forwards (askActor).
 */

const STATUS_MS = 5_000;
/** A switchover waits for the target to catch up (timeout_ms), then stops, promotes and rejoins: some more. */
const SWITCHOVER_EXTRA_MS = 120_000;
const FORWARD_MAX_MS = 300_000;

export type PgClusterView = PgClusterStatus & { last_failover: PgClusterStatus['history'][number] | null };

const controllerPath = (key: string) => `/pg/${key}/controller`;

function requireCluster(ctx: ApiContext, key: string): string {
  if (ctx.controllers.pg.length === 0)
    throw new PgNotConfigured(`the role of ${ctx.nodeName} has no pg_controller`);
  if (!ctx.controllers.pg.includes(key))
    throw new PgUnknownCluster(`no replicated cluster "${key}" in pg_controller`, {
      details: { known: [...ctx.controllers.pg] },
    });
  return key;
}

/** One cluster's status, with its newest change of primary beside the history. */
export async function pgClusterView(
  ctx: ApiContext,
  principal: Principal | null,
  key: string,
): Promise<PgClusterView> {
  const s = (await askActor(
    ctx,
    principal,
    controllerPath(key),
    'status',
    null,
    STATUS_MS,
  )) as PgClusterStatus;
  return { ...s, last_failover: s.history.at(-1) ?? null };
}

export const pgRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/pg',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/pg',
        summary: 'Every replicated cluster: phase, primary, standbys with their lag, failover history',
        responses: {
          '200': {
            description:
              'One entry per cluster; a controller that did not answer has `error` instead of `status`',
            schema: PgClusterList,
          },
          ...errors(401, 404),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      if (ctx.controllers.pg.length === 0)
        throw new PgNotConfigured(`the role of ${ctx.nodeName} has no pg_controller`);
      const clusters = await Promise.all(
        ctx.controllers.pg.map(async (key) => {
          try {
            return { key, status: await pgClusterView(ctx, req.principal, key), error: null };
          } catch (err) {
            // One controller restarting must not hide the others; its error as the API would answer it alone.
            const { code, message } = errorResponse(err).body.error;
            return { key, status: null, error: { code, message } };
          }
        }),
      );
      return { clusters };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/pg/:key',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/pg/{key}',
        summary: 'One replicated cluster: phase, primary, standbys with their lag, failover history',
        params: PgKeyParams,
        responses: {
          '200': { description: 'The cluster’s status', schema: PgClusterStatusSchema },
          ...errors(400, 401, 404, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) =>
      pgClusterView(ctx, req.principal, requireCluster(ctx, parse(PgKeyParams, req.params, 'path').key)),
  },
  {
    method: 'POST',
    url: '/api/v1/pg/:key/switchover',
    scope: 'admin',
    docs: [
      {
        method: 'post',
        path: '/api/v1/pg/{key}/switchover',
        summary:
          'Planned switchover: the standby catches up, the primary stops cleanly, the standby is promoted, the old ' +
          'primary rejoins. 409 MW_ERR_PG_SWITCHOVER_REFUSED when the server is not a running standby of the ' +
          'cluster, is already the primary, there is no primary, or the controller is busy',
        params: PgKeyParams,
        body: PgSwitchoverBody,
        responses: {
          '200': {
            description: 'Done: the new primary and how the old one rejoined',
            schema: PgSwitchoverReplySchema,
          },
          ...errors(400, 401, 403, 404, 409, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const key = requireCluster(ctx, parse(PgKeyParams, req.params, 'path').key);
      const body = parse(PgSwitchoverBody, req.body ?? null, 'body');
      const timeoutMs = Math.min(FORWARD_MAX_MS, (body.timeout_ms ?? 30_000) + SWITCHOVER_EXTRA_MS);
      return askActor(ctx, req.principal, controllerPath(key), 'switchover', body, timeoutMs);
    },
  },
];
