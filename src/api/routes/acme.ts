import type {} from 'zod-openapi';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import type { Principal } from '../auth.ts';
import { askActor } from '../dispatch.ts';
import type { Route } from '../route.ts';
import { errors, parse } from '../route.ts';
import type { AcmeStatus } from '../../../actors/acme/protocol.ts';

/**
 * The ACME service's facade (06-services.md "ACME"): the certificates with their end, next renewal and last error,
 * and an operator's renew now / revoke-and-replace. `/services/acme` runs on the group's active instance; a passive
 * node forwards. A role without `acme` has no such actor: 404 MW_ERR_ACTOR_NOT_FOUND.
 */

const PATH = '/services/acme';
/** An order polls the ACME server until it is valid: seconds, more when a dns-01 hook waits for DNS. */
const ATTEMPT_MS = 180_000;

const ErrorShape = z.object({ code: z.string(), message: z.string() }).passthrough();

export const AcmeCertStatusSchema = z
  .object({
    name: z.string().meta({ description: 'The first of its names', example: 'www.example.net' }),
    names: z.array(z.string()),
    challenge: z.enum(['http-01', 'dns-01']),
    dir: z.string(),
    phase: z.enum(['missing', 'valid', 'due', 'failing', 'expiring', 'expired']),
    serial: z.string().nullable(),
    not_before: z.number().nullable().meta({ description: 'Wall-clock ms' }),
    not_after: z.number().nullable(),
    renew_at: z.number().nullable(),
    renew_by: z.enum(['fraction', 'ari']).nullable(),
    failures: z.number(),
    next_attempt_at: z.number().nullable(),
    last_error: ErrorShape.nullable(),
    last_success_at: z.number().nullable(),
    running: z.boolean(),
  })
  .meta({ id: 'AcmeCertStatus' });

export const AcmeStatusSchema = z
  .object({
    directory_url: z.string(),
    http01: z.string().nullable(),
    ari: z.boolean().nullable(),
    certs: z.array(AcmeCertStatusSchema),
  })
  .meta({ id: 'AcmeStatus' });

const AcmeAttemptSchema = z
  .object({
    ok: z.boolean(),
    error: ErrorShape.nullable(),
    cert: AcmeCertStatusSchema,
    revoked_serial: z.string().nullable().optional(),
  })
  .meta({ id: 'AcmeAttempt' });

const CertParams = z.object({ name: z.string().min(1).max(253) });
const RevokeBody = z
  .object({ reason: z.enum(['unspecified', 'keyCompromise', 'superseded']).optional() })
  .strict()
  .default({});

export async function acmeStatus(ctx: ApiContext, principal: Principal | null): Promise<AcmeStatus> {
  return (await askActor(ctx, principal, PATH, 'status', null, 5_000)) as AcmeStatus;
}

export const acmeRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/acme/certs',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/acme/certs',
        summary: 'ACME certificates: names, phase, not-after, next renewal, failures and the last error',
        responses: {
          '200': { description: 'The service’s status', schema: AcmeStatusSchema },
          ...errors(401, 404, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => acmeStatus(ctx, req.principal),
  },
  {
    method: 'POST',
    url: '/api/v1/acme/certs/:name/renew',
    scope: 'admin',
    docs: [
      {
        method: 'post',
        path: '/api/v1/acme/certs/{name}/renew',
        summary:
          'Renews a certificate now; answers when the attempt has ended (a failed one is a 200 with ok: false)',
        params: CertParams,
        responses: {
          '200': { description: 'The attempt', schema: AcmeAttemptSchema },
          ...errors(401, 403, 404, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { name } = parse(CertParams, req.params, 'path');
      return askActor(ctx, req.principal, PATH, 'renew', { name }, ATTEMPT_MS);
    },
  },
  {
    method: 'POST',
    url: '/api/v1/acme/certs/:name/revoke',
    scope: 'admin',
    docs: [
      {
        method: 'post',
        path: '/api/v1/acme/certs/{name}/revoke',
        summary:
          'Obtains a replacement (a new key), puts it in place, then revokes the old certificate at the CA; ' +
          '409 MW_ERR_ACME_NO_CERT when none has been issued',
        params: CertParams,
        body: RevokeBody,
        responses: {
          '200': { description: 'The attempt, with the revoked serial', schema: AcmeAttemptSchema },
          ...errors(400, 401, 403, 404, 409, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { name } = parse(CertParams, req.params, 'path');
      const body = parse(RevokeBody, req.body ?? {}, 'body');
      return askActor(ctx, req.principal, PATH, 'revoke', { name, ...body }, ATTEMPT_MS);
    },
  },
];
