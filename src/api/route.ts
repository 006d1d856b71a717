import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Scope } from './auth.ts';
import type { ApiContext } from './context.ts';
import { BadRequest } from './errors.ts';

/**
 * One route of the API: how fastify serves it and how OpenAPI documents it, in one place. A fastify route may
 * serve several documented operations (one wildcard route serves every actor action).
 */

export interface OperationDoc {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<string, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** Scope a token needs; `public` routes need no token at all (the static web view only). */
  scope: Scope | 'public';
  docs: OperationDoc[];
  handler(req: FastifyRequest, reply: FastifyReply, ctx: ApiContext): Promise<unknown>;
}

/** Parses request input with its schema; a mismatch is a 400 naming every field. */
export function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    field: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  throw new BadRequest(`invalid ${where}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, {
    details: { issues },
  });
}

/** Standard error responses, for the documentation. */
export function errors(...statuses: number[]): OperationDoc['responses'] {
  const text: Record<number, string> = {
    400: 'Invalid input (the body, a field, a message type)',
    401: 'No token, or a token that is not valid',
    403: 'The token lacks the scope',
    404: 'No actor at that path',
    409: 'The request conflicts with the current state (a stale mutex token, an operation the supervisor refuses)',
    502: 'The server behind the facade refused or failed (the code and details say why)',
    413: 'The body is too large',
    503: 'Not available now (the actor restarts, the node drains or is passive); retry',
    504: 'No reply before the deadline',
  };
  return Object.fromEntries(statuses.map((s) => [String(s), { description: text[s] ?? 'Error' }]));
}
