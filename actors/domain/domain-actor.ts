import { z } from 'zod';
import type { Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';

/**
 * One actor per domain this group serves (from placement). It is the domain's address in the cluster and the
 * parent of the per-domain services later issues add (call manager, service tasks, callbacks, hunt, …).
 */

export interface DomainArgs {
  domain: string;
  /** Parent domain in the tree, if listed. */
  parent?: string;
  site: string;
  group: number;
}

export interface DomainInfo extends DomainArgs {
  /** Wall-clock time this incarnation started. */
  started_at: number;
  messages: number;
}

export type DomainProtocol = {
  info: { request: null; reply: DomainInfo; scope: 'send' };
  ping: { request: null; reply: 'pong'; scope: 'send' };
};

/** The behaviour of one domain: a class, so that its handlers are one table for all domains. */
class DomainActor implements Behavior<DomainProtocol> {
  private messages = 0;

  constructor(
    private readonly args: DomainArgs,
    /** Wall-clock time this incarnation started. */
    private readonly startedAt: number,
  ) {}

  get handlers(): Handlers<DomainProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<DomainProtocol, DomainActor> = {
    info() {
      return { ...this.args, started_at: this.startedAt, messages: ++this.messages };
    },
    ping() {
      this.messages++;
      return 'pong';
    },
  };
}
const HANDLERS = DomainActor.handlers;

export const domainActor = defineActor<DomainProtocol, DomainArgs>({
  kind: 'domain',
  moduleUrl: import.meta.url,
  exportName: 'domainActor',
  messages: {
    info: { payload: z.null(), scope: 'send', summary: 'The domain, its parent, site and group' },
    ping: { payload: z.null(), scope: 'send', summary: 'Answers "pong"' },
  },
  create: (args, ctx) => new DomainActor(args, ctx.clock.wallNow()),
});
