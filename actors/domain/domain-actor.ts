import { z } from 'zod';
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

export const domainActor = defineActor<DomainProtocol, DomainArgs>({
  kind: 'domain',
  moduleUrl: import.meta.url,
  exportName: 'domainActor',
  messages: {
    info: { payload: z.null(), scope: 'send', summary: 'The domain, its parent, site and group' },
    ping: { payload: z.null(), scope: 'send', summary: 'Answers "pong"' },
  },
  create(args, ctx) {
    const startedAt = ctx.clock.wallNow();
    let messages = 0;
    return {
      handlers: {
        info: () => ({ ...args, started_at: startedAt, messages: ++messages }),
        ping: () => {
          messages++;
          return 'pong';
        },
      },
    };
  },
});
