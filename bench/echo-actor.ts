import { defineActor } from '../src/actor-system/kind.ts';

/** The benchmark's actor: the smallest useful handler, so the runtime's own cost shows. */
export type EchoProtocol = {
  inc: { request: number; reply: number };
  crash: { request: null; reply: never };
  pid: { request: null; reply: number };
};

export const echoActor = defineActor<EchoProtocol, null>({
  kind: 'bench-echo',
  moduleUrl: import.meta.url,
  exportName: 'echoActor',
  messages: {},
  create() {
    let n = 0;
    return {
      handlers: {
        inc: (x) => (n += x),
        crash: () => {
          throw new Error('crash on purpose');
        },
        pid: () => process.pid,
      },
    };
  },
});

/** The same handler as a bare comedy actor definition. */
export class BareEcho {
  private n = 0;
  inc(x: number): number {
    return (this.n += x);
  }
}
