import type { ApiContext } from '../../src/api/context.ts';
import { startApiServer } from '../../src/api/server.ts';
import { defineActor } from '../../src/actor-system/kind.ts';

/**
 * The node's HTTP server (message API, facades, /ui, /metrics) as a supervised actor: if its server fails it is
 * restarted like any other actor. It holds the node's listener and context, so it always runs in the node's
 * process (in-memory).
 */

export interface ApiArgs {
  context: ApiContext;
  /** The role's internal interface address: the only address it listens on. */
  host: string;
  port: number;
  tls?: { cert: string; key: string };
}

export type ApiProtocol = {
  url: { request: null; reply: string };
};

export const apiActor = defineActor<ApiProtocol, ApiArgs>({
  kind: 'api',
  moduleUrl: import.meta.url,
  exportName: 'apiActor',
  async create(args, ctx) {
    const server = await startApiServer({
      ctx: args.context,
      host: args.host,
      port: args.port,
      tls: args.tls,
    });
    ctx.log.info({ url: server.url }, 'API listening');
    return {
      handlers: { url: () => server.url },
      stop: () => server.close(),
    };
  },
});
