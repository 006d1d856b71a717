import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fastify } from 'fastify';
import { MwareError } from '../errors.ts';
import type { Principal } from './auth.ts';
import { Authenticator } from './auth.ts';
import type { ApiContext } from './context.ts';
import { BadRequest, errorResponse, RouteNotFound } from './errors.ts';
import { requireIntake } from './intake.ts';
import type { Route } from './route.ts';
import { actorRoutes } from './routes/actors.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { healthRoutes } from './routes/health.ts';
import { mutexRoutes } from './routes/mutex.ts';
import { acmeRoutes } from './routes/acme.ts';
import { backupRoutes } from './routes/backup.ts';
import { taskRoutes } from './routes/tasks.ts';
import { freeswitchRoutes } from './routes/freeswitch.ts';
import { callRoutes } from './routes/calls.ts';
import { pgRoutes } from './routes/pg.ts';
import { statsRoutes } from './routes/stats.ts';
import { streamRoutes } from './routes/streams.ts';
import { uiRoutes } from './routes/ui.ts';
import { monitorRoutes } from './routes/monitor.ts';
import { ScriptChannels } from './script-channel.ts';

/**
 * The message API (03-interfaces.md): HTTP/JSON on the role's internal interface only, every request but the
 * static web view authenticated with a bearer token and its scope, one error shape, input parsed with zod at the
 * edge, and an OpenAPI document generated from the same route table.
 */

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    scope?: Route['scope'];
  }
}

export interface ApiServerOptions {
  ctx: ApiContext;
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  /** Largest request body accepted (default 256 KiB). */
  bodyLimit?: number;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export const ALL_ROUTES: Route[] = [
  ...healthRoutes,
  ...actorRoutes,
  ...clusterRoutes,
  ...statsRoutes,
  ...streamRoutes,
  ...mutexRoutes,
  ...pgRoutes,
  ...backupRoutes,
  ...acmeRoutes,
  ...taskRoutes,
  ...freeswitchRoutes,
  ...callRoutes,
  ...monitorRoutes,
  ...uiRoutes,
];

export async function startApiServer(o: ApiServerOptions): Promise<ApiServer> {
  const app = createApiApp(o);
  await app.listen({ host: o.host, port: o.port });
  const url = `${o.tls ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
  return { url, close: () => app.close() };
}

/** The API's fastify instance, not listening yet (tests and benchmarks inject requests into it). */
export function createApiApp(o: Omit<ApiServerOptions, 'host' | 'port'>): FastifyInstance {
  const { ctx } = o;
  const app: FastifyInstance = fastify({
    logger: false,
    bodyLimit: o.bodyLimit ?? 256 * 1024,
    // Input is validated with zod at the edge, so fastify's own schema compilers (AJV, ≈300 ms to load) are never
    // needed: these stand in for them.
    schemaController: {
      compilersFactory: {
        buildValidator: () => () => () => true,
        buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
      },
    },
    // Event streams stay open: closing the server must not wait for them.
    forceCloseConnections: true,
    return503OnClosing: true,
    // A URL fastify cannot decode is answered before routing: still in our error shape.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = errorResponse(new BadRequest(err.message));
      void reply.code(status).send(body);
    },
    // A request Node's HTTP parser refuses (a garbled request line, headers too large) is answered before fastify
    // sees it: in our error shape too, then the connection closes.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return void socket.destroy();
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? 431 : 400;
      const body = JSON.stringify({
        error: {
          code: tooLarge ? 'MW_ERR_HEADERS_TOO_LARGE' : 'MW_ERR_BAD_REQUEST',
          message: tooLarge ? 'the request headers are too large' : 'the request is not valid HTTP',
        },
      });
      socket.end(
        `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    },
    ...(o.tls ? { https: { cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key) } } : {}),
  } as Parameters<typeof fastify>[0]) as unknown as FastifyInstance;

  app.decorateRequest('principal', null);
  // JSON only: fastify would otherwise hand a text/plain body to the handlers as a string.
  app.removeContentTypeParser('text/plain');

  // Synchronous hooks: an async one costs a promise per request.
  app.addHook('onRequest', (req, _reply, done) => {
    try {
      const scope = req.routeOptions.config.scope ?? 'read';
      if (scope !== 'public') {
        const principal = ctx.auth.authenticate(req.headers.authorization);
        req.principal = principal;
        Authenticator.authorize(principal, scope);
        // Group work is checked where it is served (here or forwarded); a draining node takes nothing new.
        if (req.url.startsWith('/api/')) requireIntake(ctx, false);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  });

  // Nothing secret leaves the node, whatever an actor put in a reply or an error message.
  app.addHook('onSend', (_req, _reply, payload, done) => {
    done(null, typeof payload === 'string' ? ctx.scrub(payload) : payload);
  });

  const requestMetrics = new RequestMetrics(ctx.metrics);

  // The script channel: persistent pipelined connections upgraded from a request on the same port.
  const channels = new ScriptChannels(ctx, {
    answered: (op, status, seconds) => requestMetrics.observe(`channel ${op}`, 'CHANNEL', status, seconds),
  });
  channels.attach(app.server);
  app.addHook('preClose', (done) => {
    channels.closeAll();
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    requestMetrics.observe(
      req.routeOptions.url ?? 'unmatched',
      req.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.setErrorHandler((err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const mapped = fromFastify(err);
    const { status, body, internal } = errorResponse(mapped);
    if (internal)
      ctx.log.error({ err: mapped, method: req.method, route: req.routeOptions.url }, 'API request failed');
    else
      ctx.log.debug(
        { code: body.error.code, method: req.method, route: req.routeOptions.url },
        'API request refused',
      );
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="mware"');
    if (status === 503) void reply.header('retry-after', '1');
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler(async (req) => {
    throw new RouteNotFound(`no such endpoint: ${req.method} ${req.url.split('?')[0] ?? ''}`);
  });

  // The document is built on first request: its generator is large to load and most nodes are never asked.
  let document: string | undefined;
  app.get('/api/v1/openapi.json', { config: { scope: 'read' } }, async (_req, reply) => {
    document ??= JSON.stringify((await import('./openapi.ts')).openApiDocument(ALL_ROUTES));
    return reply.type('application/json').send(document);
  });

  for (const route of ALL_ROUTES) {
    app.route({
      method: route.method,
      url: route.url,
      config: { scope: route.scope },
      handler: (req, reply) => route.handler(req, reply, ctx),
    });
  }

  return app;
}

/**
 * Per-request metrics with the label children cached: prom-client would otherwise sort and hash the label object
 * on every request.
 */
class RequestMetrics {
  private readonly counters = new Map<string, { inc(): void }>();
  private readonly timers = new Map<string, { observe(v: number): void }>();

  constructor(private readonly m: ApiContext['metrics']) {}

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let counter = this.counters.get(key);
    if (!counter)
      this.counters.set(
        key,
        (counter = this.m.apiRequests.labels({ route, method, status: String(status) })),
      );
    counter.inc();
    let timer = this.timers.get(route);
    if (!timer) this.timers.set(route, (timer = this.m.apiDuration.labels({ route })));
    timer.observe(seconds);
  }
}

/** fastify's own errors (body parsing, limits) in our vocabulary. */
function fromFastify(err: Error): unknown {
  if (err instanceof MwareError) return err;
  const status = (err as FastifyError).statusCode;
  if (status === undefined || status >= 500) return err;
  const code = (err as FastifyError).code ?? '';
  const known: Record<number, string> = {
    413: 'MW_ERR_PAYLOAD_TOO_LARGE',
    415: 'MW_ERR_UNSUPPORTED_MEDIA_TYPE',
    405: 'MW_ERR_METHOD_NOT_ALLOWED',
  };
  if (known[status]) return new MwareError(known[status], err.message);
  if (code.includes('JSON') || err instanceof SyntaxError)
    return new MwareError('MW_ERR_BAD_JSON', `the body is not valid JSON: ${err.message}`);
  return new BadRequest(err.message);
}
