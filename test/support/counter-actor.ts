import { z } from 'zod';
import { defineActor } from '../../src/actor-system/kind.ts';
import { InvalidMessage } from '../../src/actor-system/errors.ts';
import { isMainThread, threadId } from 'node:worker_threads';

/** A test actor: counts, crashes in every way on request, and reports where it runs. */
export type CounterProtocol = {
  inc: { request: number; reply: number; scope: 'send' };
  get: { request: null; reply: number; scope: 'read' };
  where: { request: null; reply: { pid: number; mainThread: boolean; threadId: number } };
  throw: { request: string; reply: never; scope: 'send' };
  'bad-input': { request: null; reply: never };
  'crash-async': { request: null; reply: string };
  'exit-process': { request: number; reply: string };
  sleep: { request: number; reply: string; scope: 'send' };
  'fail-self': { request: string; reply: string };
  'stop-self': { request: null; reply: string };
  save: { request: number; reply: string };
  log: { request: string; reply: string };
};

export interface CounterArgs {
  start?: number;
  failInit?: boolean;
  /** Milliseconds of busy initialisation. */
  initDelayMs?: number;
  /** Its stop never finishes (to test shutdown timeouts). */
  stopHangs?: boolean;
}

export const counterActor = defineActor<CounterProtocol, CounterArgs, { count: number }>({
  kind: 'test-counter',
  moduleUrl: import.meta.url,
  exportName: 'counterActor',
  stateKey: () => 'test-counter',
  messages: {
    get: { payload: z.null(), scope: 'read', summary: 'The count' },
    inc: { payload: z.int(), scope: 'send', summary: 'Adds to the count' },
    sleep: { payload: z.int().min(0).max(60_000), scope: 'send', summary: 'Answers after that many ms' },
    throw: { payload: z.string(), scope: 'send', summary: 'Crashes with that message' },
  },
  async create(args, ctx) {
    if (args.failInit) throw new Error('initialisation failed on purpose');
    if (args.initDelayMs) await new Promise((r) => setTimeout(r, args.initDelayMs));
    let count = ctx.state.restored?.count ?? args.start ?? 0;
    return {
      handlers: {
        inc: (n) => (count += n),
        get: () => count,
        where: () => ({ pid: process.pid, mainThread: isMainThread, threadId }),
        throw: (msg) => {
          throw new Error(msg);
        },
        'bad-input': () => {
          throw new InvalidMessage("that input is the caller's mistake");
        },
        'crash-async': () => {
          setTimeout(() => {
            throw new Error('uncaught, outside any handler');
          }, 1);
          return 'scheduled';
        },
        'exit-process': (code) => {
          setTimeout(() => process.exit(code), 1);
          return 'exiting';
        },
        sleep: (ms) => new Promise((r) => setTimeout(() => r('slept'), ms)),
        'fail-self': (msg) => {
          ctx.fail(new Error(msg));
          return 'declared';
        },
        'stop-self': () => {
          ctx.stop();
          return 'stopping';
        },
        log: (note) => {
          ctx.log.info({ note, password: note }, `counter says ${note}`);
          return 'logged';
        },
        save: async (n) => {
          count = n;
          await ctx.state.save({ count });
          return 'saved';
        },
      },
      stop: () => (args.stopHangs ? new Promise<void>(() => undefined) : undefined),
    };
  },
});
