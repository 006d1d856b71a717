import { z } from 'zod';
import {
  CallActionReplySchema,
  CallId,
  CALLS_PATH,
  ConferenceList,
  ConferenceName,
  DialogList,
  DialogSchema,
  Domain,
  DtmfFields,
  HangupRequest,
  OriginateFields,
  OriginateReplySchema,
  ParticipantList,
  RecordFields,
  START_NEEDS_PATH,
  startHasPath,
  TransferFields,
} from '../../../actors/freeswitch/call-manager-protocol.ts';
import type { Principal } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { askActor } from '../dispatch.ts';
import { FsNotConfigured } from '../../freeswitch/errors.ts';
import type { OperationDoc, Route } from '../route.ts';
import { errors, parse } from '../route.ts';

/**
 * The call manager facade (05-freeswitch.md, 03-interfaces.md): `/rest/v1/uc/calls` and `/rest/v1/uc/conferences`,
 * per domain, token scope `calls`. Each route parses its input here (a 400 names the field), then asks the call
 * manager actor (`/freeswitch/calls`), which runs on the group's active instance: a passive node forwards.
 *
 * The spec's verbs REFER, SEND_DTMF and SETUP_RECORD cannot be HTTP methods (Node's HTTP parser refuses methods it
 * does not know, before any router sees them), so each is a POST on a sub-resource — `/refer`, `/dtmf`, `/record` —
 * and also a POST on the call itself with `{"method": "REFER" | "SEND_DTMF" | "SETUP_RECORD", …}`; `INVITE` is the
 * POST on the collection (`{"method": "INVITE"}` accepted there too).
 */

const ASK_MS = 15_000;
/** An originate rings its first party for up to `originate_timeout_s` (at most 300 s): the ask waits as long. */
const ORIGINATE_MS = 300_000;

const IdParams = z.object({ id: CallId });
const NameParams = z.object({ name: ConferenceName });
const KickParams = z.object({
  name: ConferenceName,
  uuid: CallId.meta({ description: 'The participant’s channel uuid' }),
});
const DomainQuery = z.object({ domain: Domain });
const HangupQuery = z.object({ domain: Domain, cause: HangupRequest.shape.cause });

const OriginateBody = z
  .strictObject({
    method: z.literal('INVITE').optional().meta({ description: 'The spec’s verb; optional here' }),
    domain: Domain,
    ...OriginateFields,
  })
  .meta({ id: 'OriginateRequest' });
const ReferBody = z.strictObject({ domain: Domain, ...TransferFields }).meta({ id: 'ReferRequest' });
const DtmfBody = z.strictObject({ domain: Domain, ...DtmfFields }).meta({ id: 'SendDtmfRequest' });
const RecordBody = z
  .strictObject({ domain: Domain, ...RecordFields })
  .refine(startHasPath, START_NEEDS_PATH)
  .meta({ id: 'SetupRecordRequest' });

const VERBS = {
  REFER: { type: 'transfer', body: ReferBody },
  SEND_DTMF: { type: 'dtmf', body: DtmfBody },
  SETUP_RECORD: { type: 'record', body: RecordBody },
} as const;
const VerbPick = z.object({ method: z.enum(['REFER', 'SEND_DTMF', 'SETUP_RECORD']) }).loose();
const VerbBody = z
  .union([
    ReferBody.extend({ method: z.literal('REFER') }),
    DtmfBody.extend({ method: z.literal('SEND_DTMF') }),
    z.strictObject({ method: z.literal('SETUP_RECORD'), domain: Domain, ...RecordFields }),
  ])
  .meta({ id: 'CallVerbRequest' });

/** Every call-manager request: a role without a farm answers 404 MW_ERR_FS_NOT_CONFIGURED at once. */
const ask = (ctx: ApiContext, p: Principal | null, type: string, payload: unknown, ms = ASK_MS) => {
  if (ctx.controllers.freeswitch.length === 0)
    throw new FsNotConfigured(`the role of ${ctx.nodeName} has no freeswitch farm: no call manager`);
  return askActor(ctx, p, CALLS_PATH, type, payload, ms);
};

const NOT_FOUND_CALL = { '404': { description: 'MW_ERR_CALL_NOT_FOUND: no such call in that domain' } };
const HOST_DOWN = {
  '503': { description: 'MW_ERR_CALL_HOST_UNAVAILABLE: the call’s FreeSWITCH host does not answer; retry' },
};
const FAILED = {
  '502': { description: 'MW_ERR_CALL_FAILED: FreeSWITCH refused the command (details.cause)' },
};

function callAction(verb: keyof typeof VERBS, sub: string, summary: string): Route {
  const { type, body } = VERBS[verb];
  const doc: OperationDoc = {
    method: 'post',
    path: `/rest/v1/uc/calls/{id}/${sub}`,
    summary,
    params: IdParams,
    body,
    responses: {
      '200': { description: 'FreeSWITCH answered +OK', schema: CallActionReplySchema },
      ...errors(400, 401, 403),
      ...NOT_FOUND_CALL,
      ...FAILED,
      ...HOST_DOWN,
    },
  };
  return {
    method: 'POST',
    url: `/rest/v1/uc/calls/:id/${sub}`,
    scope: 'calls',
    docs: [doc],
    handler: async (req, _reply, ctx) => {
      const { id } = parse(IdParams, req.params, 'path');
      const b = parse(body as z.ZodType<Record<string, unknown>>, req.body ?? null, 'body');
      return ask(ctx, req.principal, type, { ...b, id });
    },
  };
}

export const callRoutes: Route[] = [
  {
    method: 'GET',
    url: '/rest/v1/uc/calls',
    scope: 'calls',
    docs: [
      {
        method: 'get',
        path: '/rest/v1/uc/calls',
        summary: 'The active calls (dialogs) of a domain, each with its A and B side',
        query: DomainQuery,
        responses: { '200': { description: 'The calls', schema: DialogList }, ...errors(400, 401, 403, 503) },
      },
    ],
    handler: async (req, _reply, ctx) =>
      ask(ctx, req.principal, 'list', parse(DomainQuery, req.query, 'query')),
  },
  {
    method: 'POST',
    url: '/rest/v1/uc/calls',
    scope: 'calls',
    docs: [
      {
        method: 'post',
        path: '/rest/v1/uc/calls',
        summary:
          'INVITE: a new call — rings `from` (the domain’s user), then dials `to` — on the least loaded live, ' +
          'unpaused FreeSWITCH host (ESL originate)',
        body: OriginateBody,
        responses: {
          '201': {
            description: 'Placed: the new call’s id (its A leg’s uuid)',
            schema: OriginateReplySchema,
          },
          ...errors(400, 401, 403),
          '409': {
            description: 'MW_ERR_CALL_REFUSED: the called party did not take it (details.cause: USER_BUSY …)',
          },
          '502': { description: 'MW_ERR_CALL_FAILED: FreeSWITCH could not place it (details.cause)' },
          '503': {
            description: 'MW_ERR_CALL_HOST_UNAVAILABLE: no live host takes new calls, or it did not answer',
          },
        },
      },
    ],
    handler: async (req, reply, ctx) => {
      const { method: _, ...body } = parse(OriginateBody, req.body ?? null, 'body');
      const placed = await ask(ctx, req.principal, 'originate', body, ORIGINATE_MS);
      void reply.code(201);
      return placed;
    },
  },
  {
    method: 'GET',
    url: '/rest/v1/uc/calls/:id',
    scope: 'calls',
    docs: [
      {
        method: 'get',
        path: '/rest/v1/uc/calls/{id}',
        summary: 'One call, by the uuid of either of its legs',
        params: IdParams,
        query: DomainQuery,
        responses: {
          '200': { description: 'The call', schema: DialogSchema },
          ...errors(400, 401, 403, 503),
          ...NOT_FOUND_CALL,
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { id } = parse(IdParams, req.params, 'path');
      return ask(ctx, req.principal, 'get', { ...parse(DomainQuery, req.query, 'query'), id });
    },
  },
  {
    method: 'DELETE',
    url: '/rest/v1/uc/calls/:id',
    scope: 'calls',
    docs: [
      {
        method: 'delete',
        path: '/rest/v1/uc/calls/{id}',
        summary: 'Hang up a call (ESL uuid_kill on its A leg; the B leg follows)',
        params: IdParams,
        query: HangupQuery,
        responses: {
          '200': { description: 'Hung up', schema: CallActionReplySchema },
          ...errors(400, 401, 403),
          ...NOT_FOUND_CALL,
          ...FAILED,
          ...HOST_DOWN,
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { id } = parse(IdParams, req.params, 'path');
      const { domain, cause } = parse(HangupQuery, req.query, 'query');
      return ask(ctx, req.principal, 'hangup', { domain, id, ...(cause === undefined ? {} : { cause }) });
    },
  },
  callAction(
    'REFER',
    'refer',
    'REFER: blind transfer of a leg to an extension of the domain’s dialplan (ESL uuid_transfer)',
  ),
  callAction('SEND_DTMF', 'dtmf', 'SEND_DTMF: send DTMF digits on a leg (ESL uuid_send_dtmf)'),
  callAction(
    'SETUP_RECORD',
    'record',
    'SETUP_RECORD: start or stop recording under the domain’s recordings folder (ESL uuid_record start|stop)',
  ),
  {
    method: 'POST',
    url: '/rest/v1/uc/calls/:id',
    scope: 'calls',
    docs: [
      {
        method: 'post',
        path: '/rest/v1/uc/calls/{id}',
        summary:
          'The spec’s verbs on a call, named in the body: `{"method": "REFER" | "SEND_DTMF" | "SETUP_RECORD", …}` — ' +
          'the same as POST …/refer, …/dtmf, …/record',
        params: IdParams,
        body: VerbBody,
        responses: {
          '200': { description: 'FreeSWITCH answered +OK', schema: CallActionReplySchema },
          ...errors(400, 401, 403),
          ...NOT_FOUND_CALL,
          ...FAILED,
          ...HOST_DOWN,
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { id } = parse(IdParams, req.params, 'path');
      const { method, ...rest } = parse(VerbPick, req.body ?? null, 'body');
      const { type, body } = VERBS[method];
      const b = parse(body as z.ZodType<Record<string, unknown>>, rest, 'body');
      return ask(ctx, req.principal, type, { ...b, id });
    },
  },
  {
    method: 'GET',
    url: '/rest/v1/uc/conferences',
    scope: 'calls',
    docs: [
      {
        method: 'get',
        path: '/rest/v1/uc/conferences',
        summary: 'The conferences of a domain on every live host (ESL conference list)',
        query: DomainQuery,
        responses: {
          '200': { description: 'The conferences', schema: ConferenceList },
          ...errors(400, 401, 403),
          ...HOST_DOWN,
        },
      },
    ],
    handler: async (req, _reply, ctx) =>
      ask(ctx, req.principal, 'conferences', parse(DomainQuery, req.query, 'query')),
  },
  {
    method: 'GET',
    url: '/rest/v1/uc/conferences/:name/participants',
    scope: 'calls',
    docs: [
      {
        method: 'get',
        path: '/rest/v1/uc/conferences/{name}/participants',
        summary: 'The participants of a conference (ESL conference NAME list)',
        params: NameParams,
        query: DomainQuery,
        responses: {
          '200': { description: 'The participants', schema: ParticipantList },
          ...errors(400, 401, 403),
          '404': { description: 'MW_ERR_CONFERENCE_NOT_FOUND: no such conference in that domain' },
          ...HOST_DOWN,
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { name } = parse(NameParams, req.params, 'path');
      return ask(ctx, req.principal, 'participants', { ...parse(DomainQuery, req.query, 'query'), name });
    },
  },
  {
    method: 'DELETE',
    url: '/rest/v1/uc/conferences/:name/participants/:uuid',
    scope: 'calls',
    docs: [
      {
        method: 'delete',
        path: '/rest/v1/uc/conferences/{name}/participants/{uuid}',
        summary: 'Kick a participant out of a conference (ESL conference NAME kick MEMBER-ID)',
        params: KickParams,
        query: DomainQuery,
        responses: {
          '200': {
            description: 'Kicked',
            schema: z.object({ name: z.string(), uuid: z.string(), host: z.string(), reply: z.string() }),
          },
          ...errors(400, 401, 403),
          '404': {
            description: 'MW_ERR_CONFERENCE_NOT_FOUND: no such conference or participant in that domain',
          },
          ...HOST_DOWN,
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const params = parse(KickParams, req.params, 'path');
      return ask(ctx, req.principal, 'kick', { ...parse(DomainQuery, req.query, 'query'), ...params });
    },
  },
];
