import type { ClientReadableStream, ServiceClientConstructor } from '@grpc/grpc-js';
import { credentials, loadPackageDefinition, Metadata } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import WebSocket from 'ws';
import { CTI_PROTO } from '../../actors/cti/grpc-server.ts';
import type { CtiOutbound } from '../../actors/cti/protocol.ts';
import type { CallEvent } from '../../src/freeswitch/call-events.ts';

/**
 * CTI clients as a CTI consumer would write them, one per adapter protocol: a WebSocket client speaking the JSON
 * messages and a gRPC client built from config/mware-cti.proto by proto-loader. Both keep every message they got,
 * in mware's own shape (the gRPC one maps the protobuf back), and how their connection ended.
 */

export interface CtiSubscribe {
  token?: string;
  domains?: string[];
  after?: number;
  stream?: string;
}

export interface CtiClient {
  readonly messages: CtiOutbound[];
  /** How it ended: a WebSocket close code, or a gRPC status code; undefined while open. */
  readonly ended: { code: number; reason: string } | undefined;
  events(): (CallEvent & { seq: number })[];
  /** The last sequence number received (for a resume), and the stream of the hello. */
  lastSeq(): number;
  stream(): string | undefined;
  /** Resolves when `fn` holds of the messages (or rejects when the connection ends first, or after `ms`). */
  until(what: string, fn: (c: CtiClient) => boolean, ms?: number): Promise<void>;
  /** Stops reading (the server sees its writes back up), and reads again. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

abstract class BaseClient implements CtiClient {
  readonly messages: CtiOutbound[] = [];
  ended: { code: number; reason: string } | undefined;
  private readonly waiters = new Set<() => void>();

  events(): (CallEvent & { seq: number })[] {
    return this.messages.flatMap((m) => (m.type === 'event' ? [m.event] : []));
  }
  lastSeq(): number {
    return this.events().at(-1)?.seq ?? 0;
  }
  stream(): string | undefined {
    const h = this.messages.find((m) => m.type === 'hello');
    return h?.type === 'hello' ? h.stream : undefined;
  }
  protected got(m: CtiOutbound): void {
    this.messages.push(m);
    for (const w of this.waiters) w();
  }
  protected end(code: number, reason: string): void {
    this.ended ??= { code, reason };
    for (const w of this.waiters) w();
  }
  until(what: string, fn: (c: CtiClient) => boolean, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (fn(this)) done(() => resolve());
        else if (this.ended)
          done(() =>
            reject(new Error(`${what}: the connection ended (${this.ended!.code} ${this.ended!.reason})`)),
          );
      };
      const timer = setTimeout(
        () =>
          done(() => reject(new Error(`${what}: not within ${ms} ms; got ${this.messages.length} messages`))),
        ms,
      );
      const done = (f: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }
  abstract pause(): void;
  abstract resume(): void;
  abstract close(): Promise<void>;
}

export class WsCtiClient extends BaseClient {
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data: Buffer) => this.got(JSON.parse(data.toString('utf8')) as CtiOutbound));
    ws.on('close', (code, reason) => this.end(code, reason.toString()));
    ws.on('error', () => undefined);
  }

  /** Connects and sends the subscription (`raw` instead: that text as the first message). */
  static connect(
    url: string,
    sub: CtiSubscribe,
    o: { raw?: string; headers?: Record<string, string> } = {},
  ): Promise<WsCtiClient> {
    const ws = new WebSocket(url, { headers: o.headers ?? {} });
    const c = new WsCtiClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.send(o.raw ?? JSON.stringify({ type: 'subscribe', ...sub }));
        resolve(c);
      });
      ws.once('error', reject);
    });
  }

  pause(): void {
    this.ws.pause();
  }
  resume(): void {
    this.ws.resume();
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((r) => {
      this.ws.once('close', () => r());
      this.ws.close();
    });
  }
}

interface WireEvent {
  seq: number;
  kind: string;
  host: string;
  uuid: string;
  call_id: string;
  direction: string;
  domain: string;
  caller: string;
  callee: string;
  partner: string;
  conference: string;
  cause: string;
  recovered: boolean;
  destination: string;
  recording: string;
  at: number;
}
type WireMessage = {
  body: 'hello' | 'event' | 'gap';
  hello?: { stream: string; first: number; last: number; resumed: boolean };
  event?: WireEvent;
  gap?: { after: number; missed: number };
};

let Ctor: ServiceClientConstructor | undefined;
function grpcClientCtor(): ServiceClientConstructor {
  if (Ctor) return Ctor;
  const def = loadSync(CTI_PROTO, { longs: Number, defaults: true, oneofs: true, keepCase: true });
  const pkg = loadPackageDefinition(def) as unknown as {
    mware: { cti: { v1: { CtiEvents: ServiceClientConstructor } } };
  };
  Ctor = pkg.mware.cti.v1.CtiEvents;
  return Ctor;
}

const orNull = (s: string): string | null => (s === '' ? null : s);

export class GrpcCtiClient extends BaseClient {
  private readonly call: ClientReadableStream<WireMessage>;
  private readonly client: InstanceType<ServiceClientConstructor>;

  constructor(target: string, sub: CtiSubscribe) {
    super();
    this.client = new (grpcClientCtor())(target, credentials.createInsecure());
    const md = new Metadata();
    if (sub.token !== undefined) md.set('authorization', `Bearer ${sub.token}`);
    const subscribe = this.client['Subscribe'] as (
      req: unknown,
      md: Metadata,
    ) => ClientReadableStream<WireMessage>;
    this.call = subscribe.call(
      this.client,
      {
        domains: sub.domains ?? [],
        resume: sub.after !== undefined,
        after: sub.after ?? 0,
        stream: sub.stream ?? '',
      },
      md,
    );
    this.call.on('data', (m: WireMessage) => this.got(fromWire(m)));
    this.call.on('error', (err: { code?: number; details?: string }) =>
      this.end(err.code ?? -1, err.details ?? ''),
    );
    this.call.on('end', () => this.end(0, 'end'));
  }

  pause(): void {
    this.call.pause();
  }
  resume(): void {
    this.call.resume();
  }

  async close(): Promise<void> {
    this.call.cancel();
    this.client.close();
  }
}

function fromWire(m: WireMessage): CtiOutbound {
  if (m.body === 'hello' && m.hello) return { type: 'hello', ...m.hello };
  if (m.body === 'gap' && m.gap) return { type: 'gap', ...m.gap };
  const e = m.event!;
  return {
    type: 'event',
    event: {
      seq: e.seq,
      kind: e.kind as CallEvent['kind'],
      host: e.host,
      uuid: e.uuid,
      callId: orNull(e.call_id),
      direction: orNull(e.direction) as CallEvent['direction'],
      domain: orNull(e.domain),
      caller: orNull(e.caller),
      callee: orNull(e.callee),
      partner: orNull(e.partner),
      conference: orNull(e.conference),
      cause: orNull(e.cause),
      recovered: e.recovered,
      destination: orNull(e.destination),
      recording: orNull(e.recording),
      at: e.at,
    },
  };
}
