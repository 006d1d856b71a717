import type { FarmStatus, FsChannel } from '../../../actors/freeswitch/protocol.ts';
import { summarizeMigration } from '../../../actors/freeswitch/protocol.ts';
import { FsNotConfigured, FsUnknownHost } from '../../freeswitch/errors.ts';
import type { ApiContext } from '../context.ts';
import type { Principal } from '../auth.ts';
import { askActor } from '../dispatch.ts';
import { errorResponse } from '../errors.ts';
import type { Route } from '../route.ts';
import { errors, parse } from '../route.ts';
import {
  FarmStatusSchema,
  FsCallsQuery,
  FsCallsSchema,
  FsHostParams,
  FsMigrationListSchema,
  FsMigrationParams,
  FsMoveBody,
  FsMoveReplySchema,
  MigrationRecordSchema,
} from '../freeswitch-schemas.ts';

/**
 * The FreeSWITCH farm's facade (05-freeswitch.md "Shell / API"): the hosts and the migration in progress, the live
 * calls of every host, `migrate` and `drain` (the "take over calls straight from the console"), and the kept result
 * of every migration call by call. The farm runs on the group's active instance (`/freeswitch` is routed there), so a
 * passive node forwards (askActor).
 */

const MIGRATOR = '/freeswitch/migrator';
const hostPath = (host: string) => `/freeswitch/hosts/${host}`;
const STATUS_MS = 5_000;
/** A host actor answers its channels from memory; a host with thousands of them takes a little longer to send. */
const CHANNELS_MS = 5_000;
/** migrate and drain answer with the migration's id as soon as it is accepted; the migration runs on. */
const START_MS = 10_000;

function requireFarm(ctx: ApiContext): readonly string[] {
  if (ctx.controllers.freeswitch.length === 0)
    throw new FsNotConfigured(`the role of ${ctx.nodeName} has no freeswitch farm`);
  return ctx.controllers.freeswitch;
}

/** `host` when it is one of the farm's hosts; 404 MW_ERR_FS_UNKNOWN_HOST naming the known ones otherwise. */
function requireHost(ctx: ApiContext, host: string): string {
  const known = requireFarm(ctx);
  if (!known.includes(host))
    throw new FsUnknownHost(`no FreeSWITCH host "${host}" (known: ${known.join(', ')})`, {
      details: { known: [...known] },
    });
  return host;
}

export function farmStatus(ctx: ApiContext, principal: Principal | null): Promise<FarmStatus> {
  requireFarm(ctx);
  return askActor(ctx, principal, MIGRATOR, 'status', null, STATUS_MS) as Promise<FarmStatus>;
}

/** Each host's live channels; a host whose actor does not answer is listed with its error, not failing the rest. */
async function callsOf(ctx: ApiContext, principal: Principal | null, hosts: readonly string[]) {
  return Promise.all(
    hosts.map(async (host) => {
      try {
        const channels = (await askActor(
          ctx,
          principal,
          hostPath(host),
          'channels',
          null,
          CHANNELS_MS,
        )) as FsChannel[];
        return { host, channels, error: null };
      } catch (err) {
        // A host actor restarting (its host is down, say) must not hide the others' calls.
        const { code, message } = errorResponse(err).body.error;
        return { host, channels: null, error: { code, message } };
      }
    }),
  );
}

const moveRoute = (verb: 'migrate' | 'drain', summary: string): Route => ({
  method: 'POST',
  url: `/api/v1/freeswitch/hosts/:host/${verb}`,
  scope: 'admin',
  docs: [
    {
      method: 'post',
      path: `/api/v1/freeswitch/hosts/{host}/${verb}`,
      summary,
      params: FsHostParams,
      body: FsMoveBody,
      responses: {
        '200': {
          description: 'Accepted: follow it with GET /api/v1/freeswitch/migrations/{id}',
          schema: FsMoveReplySchema,
        },
        ...errors(400, 401, 403, 404, 409, 503, 504),
      },
    },
  ],
  handler: async (req, _reply, ctx) => {
    const host = requireHost(ctx, parse(FsHostParams, req.params, 'path').host);
    const body = parse(FsMoveBody, req.body ?? {}, 'body');
    for (const t of body.to ?? []) requireHost(ctx, t);
    const payload = body.to === undefined ? { host } : { host, to: body.to };
    return askActor(ctx, req.principal, MIGRATOR, verb, payload, START_MS);
  },
});

export const freeswitchRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/freeswitch',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/freeswitch',
        summary:
          'The FreeSWITCH farm: each host’s state, channels, sessions and pause; the migration in progress; recent ones',
        responses: {
          '200': { description: 'The migrator’s view of the farm', schema: FarmStatusSchema },
          ...errors(401, 404, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => farmStatus(ctx, req.principal),
  },
  {
    method: 'GET',
    url: '/api/v1/freeswitch/calls',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/freeswitch/calls',
        summary:
          'The live channels of every host (or of one): direction, state, numbers, bridge partner, conference',
        query: FsCallsQuery,
        responses: {
          '200': {
            description:
              'One entry per host; a host whose actor did not answer has `error` instead of `channels`',
            schema: FsCallsSchema,
          },
          ...errors(400, 401, 404),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const q = parse(FsCallsQuery, req.query, 'query');
      const hosts = q.host === undefined ? requireFarm(ctx) : [requireHost(ctx, q.host)];
      return { hosts: await callsOf(ctx, req.principal, hosts) };
    },
  },
  moveRoute(
    'migrate',
    'Moves every answered call of the host to the others (or to `to`); the host keeps running. One migration at a ' +
      'time: a second one is queued (`queued:<host>`). 409 MW_ERR_FS_MIGRATION_REFUSED when the host is already ' +
      'being migrated or is its own target',
  ),
  moveRoute(
    'drain',
    'Pauses the host (no new calls), moves its calls to the others (or to `to`), then stops it without BYE. ' +
      '409 MW_ERR_FS_MIGRATION_REFUSED as for migrate',
  ),
  {
    method: 'GET',
    url: '/api/v1/freeswitch/migrations',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/freeswitch/migrations',
        summary: 'The migration in progress and the recent ones, in counts (moved, lost, failed)',
        responses: {
          '200': { description: 'Summaries, the newest last', schema: FsMigrationListSchema },
          ...errors(401, 404, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const s = await farmStatus(ctx, req.principal);
      return { active: s.active ? summarizeMigration(s.active) : null, recent: s.recent };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/freeswitch/migrations/:id',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/freeswitch/migrations/{id}',
        summary:
          'One migration call by call: target, outcome (planned, handed, recreated, moved, lost, failed) and cause; ' +
          'each target’s `fsctl recover`; timings. 404 MW_ERR_FS_UNKNOWN_MIGRATION for an id not kept',
        params: FsMigrationParams,
        responses: {
          '200': {
            description: 'The record as it stands (it changes while the migration runs)',
            schema: MigrationRecordSchema,
          },
          ...errors(400, 401, 404, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { id } = parse(FsMigrationParams, req.params, 'path');
      requireFarm(ctx);
      return askActor(ctx, req.principal, MIGRATOR, 'migration', { id }, STATUS_MS);
    },
  },
];
