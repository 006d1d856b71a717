import { createRequire } from 'node:module';
import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import { allPublicMessages } from '../actor-system/kind.ts';
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiPathsObject,
  ZodOpenApiResponsesObject,
} from 'zod-openapi';
import type { Route } from './route.ts';
import { ErrorBody } from './schemas.ts';

const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The OpenAPI 3.1 document of the API, generated from the route table and its zod schemas. */
export function openApiDocument(routes: readonly Route[]): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    for (const doc of route.docs) {
      const responses: ZodOpenApiResponsesObject = {};
      for (const [status, r] of Object.entries(doc.responses)) {
        const schema = r.schema ?? (Number(status) >= 400 ? ErrorBody : undefined);
        responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = schema
          ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema } } }
          : { description: r.description, content: r.contentType ? { [r.contentType]: {} } : undefined };
      }
      const op: ZodOpenApiOperationObject = {
        summary: doc.summary,
        description: scopeText(route, doc.path),
        responses,
        ...(route.scope === 'public' ? { security: [] } : {}),
      };
      if (doc.params || doc.query)
        op.requestParams = {
          ...(doc.params ? { path: doc.params } : {}),
          ...(doc.query ? { query: doc.query } : {}),
        };
      const body = doc.path.endsWith('/messages') ? (publicMessageBody() ?? doc.body) : doc.body;
      if (body) op.requestBody = { required: true, content: { 'application/json': { schema: body } } };
      paths[doc.path] = { ...paths[doc.path], [doc.method]: op };
    }
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'mware message API',
      version,
      description: 'Actors by path, the supervision tree, the cluster, and the platform facades (mutex).',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  });
}

/**
 * The body of a message to an actor, as every actor kind's public table declares it: one schema per kind and
 * message (`domain.info`, `mutex.inspect`, …) with its payload and the scope it needs. Built from the same table
 * the API dispatches by, so the document lists exactly what can be sent.
 */
function publicMessageBody(): z.ZodType | undefined {
  const variants = allPublicMessages().flatMap(([kind, messages]) =>
    [...messages].map(([type, m]) =>
      z
        .strictObject({
          type: z.literal(type),
          payload: m.payload.optional(),
          timeout_ms: z.int().min(1).max(300_000).optional(),
        })
        .meta({
          id: `Message.${kind}.${type}`,
          description: `${kind}: ${m.summary}. Token scope: ${m.scope}.`,
        }),
    ),
  );
  const [first, second, ...more] = variants;
  if (!first) return undefined;
  return second ? z.union([first, second, ...more]) : first;
}

function scopeText(route: Route, path: string): string {
  if (route.scope === 'public') return 'No token needed.';
  if (route.scope === 'read') return 'Any valid token.';
  // One POST route serves messages (each with its own scope) and the operator's actions (admin).
  if (/\/(restart|stop|start)$/.test(path)) return 'Token scope: admin.';
  if (path.endsWith('/messages'))
    return 'Token scope: the one the message declares (see its schema), or admin.';
  return `Token scope: ${route.scope} (or admin).`;
}
