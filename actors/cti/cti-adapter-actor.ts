import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { CtiAdapterDef } from './adapters.ts';
import { CtiServerFailed } from './errors.ts';
import type { CtiFeed } from './feed.ts';
import type { CtiAdapterProtocol, CtiAdapterStatus, CtiClientInfo } from './protocol.ts';
import type { CtiServer } from './server.ts';

/**
 * `/services/cti/<key>` (06-services.md "CTI event provider"): one adapter server streaming the farm's call events
 * to CTI clients. The actor owns the server only; the buffer (`feed`) is its subtree's and outlives it, so when the
 * server fails and the actor restarts, clients reconnect and resume from their last sequence number.
 */

export interface CtiAdapterArgs {
  key: string;
  adapter: CtiAdapterDef;
  /** Where the server listens (the role's internal address, or the alias `iface` names). */
  address: string;
  port: number;
  token: string | undefined;
  feed: CtiFeed;
  /** Clients at once; default 1,000. */
  maxClients?: number;
}

class CtiAdapterActor implements Behavior<CtiAdapterProtocol> {
  private readonly server: CtiServer;

  constructor(
    private readonly args: CtiAdapterArgs,
    ctx: ActorContext,
  ) {
    this.server = args.adapter.create({
      address: args.address,
      port: args.port,
      token: args.token,
      feed: args.feed,
      clock: ctx.clock,
      log: ctx.log,
      maxClients: args.maxClients ?? 1_000,
      onFailure: (err) => {
        ctx.log.warn({ err: err.message }, 'cti: adapter server failed; restarting it');
        ctx.fail(new CtiServerFailed(`the ${args.key} server failed: ${err.message}`, { cause: err }));
      },
    });
  }

  async start(): Promise<this> {
    try {
      await this.server.start();
    } catch (err) {
      await this.server.stop().catch(() => undefined);
      throw err;
    }
    return this;
  }

  get handlers(): Handlers<CtiAdapterProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<CtiAdapterProtocol, CtiAdapterActor> = {
    status() {
      return this.status();
    },
    clients() {
      return this.clients();
    },
  };

  status(): CtiAdapterStatus {
    const f = this.args.feed;
    const c = this.server.counters;
    return {
      key: this.args.key,
      listening: this.server.listening,
      stream: f.stream,
      buffer: { capacity: f.capacity, held: f.held, first: f.first, last: f.last },
      clients: this.server.clients().length,
      refused: c.refused,
      sent: c.sent,
      gaps: c.gaps,
    };
  }

  clients(): CtiClientInfo[] {
    return this.server.clients();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
const HANDLERS = CtiAdapterActor.handlers;

export const ctiAdapterActor = defineActor<CtiAdapterProtocol, CtiAdapterArgs>({
  kind: 'cti-adapter',
  moduleUrl: import.meta.url,
  exportName: 'ctiAdapterActor',
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary: 'Where it listens, its buffer (first, last, held), clients, events sent, gaps, refusals',
    },
    clients: {
      payload: z.null(),
      scope: 'read',
      summary: 'The connected CTI clients: peer, domains, sequence reached, events sent',
    },
  },
  create: (args, ctx) => new CtiAdapterActor(args, ctx).start(),
});
