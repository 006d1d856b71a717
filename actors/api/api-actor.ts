import { z } from 'zod';
import { defineActor } from '../../src/actor-system/kind.ts';

/**
 * The node's HTTP listener (message API, facades, /ui, /metrics) as a supervised actor: if its server fails it is
 * restarted like any other actor. The actor knows no HTTP: the node gives it the function that opens the listener.
 * It holds that listener, so it always runs in the node's process (in-memory).
 */

export interface Listener {
  url: string;
  close(): Promise<void>;
}

export interface ApiArgs {
  /** Opens the listener (on the role's internal interface only). */
  listen: () => Promise<Listener>;
}

export type ApiProtocol = {
  url: { request: null; reply: string; scope: 'read' };
};

export const apiActor = defineActor<ApiProtocol, ApiArgs>({
  kind: 'api',
  moduleUrl: import.meta.url,
  exportName: 'apiActor',
  messages: { url: { payload: z.null(), scope: 'read', summary: 'The address the API listens on' } },
  async create(args, ctx) {
    const server = await args.listen();
    ctx.log.info({ url: server.url }, 'API listening');
    return {
      handlers: { url: () => server.url },
      stop: () => server.close(),
    };
  },
});
