import comedy from 'comedy';
import { BareEcho } from './echo-actor.ts';

/**
 * The benchmark baseline: a plain comedy actor used through comedy's own API, with nothing of mware around it.
 * The one place outside src/actor-system/comedy.ts that touches comedy's untyped API.
 */
export interface BareActor {
  inc(n: number): PromiseLike<unknown>;
  destroy(): Promise<void>;
}

export async function bareEcho(): Promise<BareActor> {
  const system = comedy.createSystem({ test: true });
  const actor = await (await system.rootActor()).createChild(BareEcho, { mode: 'in-memory' });
  return {
    inc: (n) => actor.sendAndReceive('inc', n),
    destroy: async () => {
      await system.destroy();
    },
  };
}
