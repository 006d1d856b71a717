// modesl 1.2.1 ships no type declarations. These are the parts mware uses, only from src/freeswitch/esl/modesl.ts.
declare module 'modesl' {
  import type { EventEmitter } from 'node:events';

  /** An EventEmitter2 (wildcards on, `::` delimiter); an `error` emitted with no listener throws. */
  interface Emitter2 {
    on(event: string, listener: (...args: never[]) => void): this;
    once(event: string, listener: (...args: never[]) => void): this;
    removeAllListeners(event?: string): this;
  }

  /** One frame or event; `headers` keep arrival order, `body` is '' when there is none. */
  class ModeslEvent {
    headers: { name: string; value: unknown }[];
    body: string;
    type: string | undefined;
    getHeader(name: string): unknown;
    getBody(): string;
  }

  /**
   * The framer: listens to `socket`'s `data`, emits `esl::event` (event, outer headers, body) per frame and
   * `error` when an event body does not parse. Its underscore members are used by mware's guards (pinned 1.2.1).
   */
  class Parser implements Emitter2 {
    constructor(socket: EventEmitter);
    on(event: string, listener: (...args: never[]) => void): this;
    once(event: string, listener: (...args: never[]) => void): this;
    removeAllListeners(event?: string): this;
    buffer: Buffer;
    bodyLen: number;
    _parseHeaderText(txt: string): Record<string, string | number>;
    _indexOfHeaderEnd(): number;
  }

  /** An inbound connection; used only as the benchmark's baseline. */
  class Connection implements Emitter2 {
    constructor(host: string, port: number, password: string, ready?: () => void);
    on(event: string, listener: (...args: never[]) => void): this;
    once(event: string, listener: (...args: never[]) => void): this;
    removeAllListeners(event?: string): this;
    subscribe(events: string[] | string, cb?: () => void): void;
    disconnect(): void;
  }

  const modesl: { Parser: typeof Parser; Event: typeof ModeslEvent; Connection: typeof Connection };
  export type { ModeslEvent, Parser, Connection };
  export default modesl;
}
