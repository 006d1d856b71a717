import { createRequire } from 'node:module';
import { createDocument } from 'zod-openapi';
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
      if (doc.body)
        op.requestBody = { required: true, content: { 'application/json': { schema: doc.body } } };
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

function scopeText(route: Route, path: string): string {
  if (route.scope === 'public') return 'No token needed.';
  if (route.scope === 'read') return 'Any valid token.';
  // One POST route serves messages (send) and the operator's actions (admin).
  const scope = /\/(restart|stop|start)$/.test(path) ? 'admin' : route.scope;
  return `Token scope: ${scope} (or admin).`;
}
