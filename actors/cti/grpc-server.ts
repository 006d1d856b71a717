import { fileURLToPath } from 'node:url';
import type { ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js';
import { Server, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { bearerToken, tokenAccepts } from './auth.ts';
import { CtiBadSubscription, CtiUnauthorized } from './errors.ts';
import type { CtiOutbound, CtiSubscription } from './protocol.ts';
import { CtiSubscription as SubscriptionSchema } from './protocol.ts';
import type { CtiServer, CtiServerOptions } from './server.ts';
import { hostPort } from './server.ts';
import type { CtiSession } from './session.ts';
import { CtiSessions } from './sessions.ts';

/**
 * The `generic.grpc` adapter: server-streaming `mware.cti.v1.CtiEvents/Subscribe` (config/mware-cti.proto), the
 * token in the `authorization` metadata. Refusals end the call with UNAUTHENTICATED, INVALID_ARGUMENT or
 * RESOURCE_EXHAUSTED, the error's `MW_ERR_…` code at the head of the details.
 */

export const CTI_PROTO = fileURLToPath(new URL('../../config/mware-cti.proto', import.meta.url));

/** The request as proto-loader decodes it (longs as numbers, defaults filled in). */
interface SubscribeRequest {
  domains: string[];
  resume: boolean;
  after: number;
  stream: string;
}

/** A CtiMessage as proto-loader encodes it from a plain object (`body` names the oneof field that is set). */
type WireMessage =
  | { hello: { stream: string; first: number; last: number; resumed: boolean } }
  | { gap: { after: number; missed: number } }
  | { event: Record<string, string | number | boolean> };

let service: ServiceDefinition | undefined;

/** The service definition, loaded once per process from the .proto in the repository. */
export function ctiServiceDefinition(): ServiceDefinition {
  if (service) return service;
  const def = loadSync(CTI_PROTO, { longs: Number, defaults: true, oneofs: true, keepCase: true });
  const pkg = loadPackageDefinition(def) as unknown as {
    mware: { cti: { v1: { CtiEvents: { service: ServiceDefinition } } } };
  };
  service = pkg.mware.cti.v1.CtiEvents.service;
  return service;
}

export class GrpcCtiServer implements CtiServer {
  private readonly server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 });
  private readonly sessions: CtiSessions;
  private bound = '';
  private stopping = false;

  constructor(private readonly o: CtiServerOptions) {
    this.sessions = new CtiSessions(o.feed, o.clock, o.maxClients);
    this.server.addService(ctiServiceDefinition(), {
      Subscribe: (call: ServerWritableStream<SubscribeRequest, WireMessage>) =>
        this.guard(() => this.subscribe(call)),
    });
  }

  get listening(): string {
    return this.bound;
  }

  get counters() {
    return this.sessions.counters;
  }

  clients() {
    return this.sessions.info();
  }

  start(): Promise<void> {
    const target = hostPort(this.o.address, this.o.port);
    return new Promise((resolve, reject) => {
      this.server.bindAsync(target, ServerCredentials.createInsecure(), (err, port) => {
        if (err) return reject(err);
        this.bound = `grpc://${hostPort(this.o.address, port)}`;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sessions.clear();
    // Streams never end by themselves: cancel them (clients see UNAVAILABLE or CANCELLED, reconnect and resume).
    this.server.forceShutdown();
  }

  private subscribe(call: ServerWritableStream<SubscribeRequest, WireMessage>): void {
    const peer = call.getPeer();
    if (this.stopping) return this.refuse(call, GrpcStatus.UNAVAILABLE, 'server stopping');
    if (this.sessions.full) return this.refuse(call, GrpcStatus.RESOURCE_EXHAUSTED, 'too many clients');
    const token = bearerToken(call.metadata.get('authorization').find((v) => typeof v === 'string'));
    if (!tokenAccepts(this.o.token, token))
      return this.refuse(
        call,
        GrpcStatus.UNAUTHENTICATED,
        `${CtiUnauthorized.code}: bad or missing token (metadata authorization: Bearer <token>)`,
      );
    const sub = subscriptionOf(call.request);
    if (sub instanceof CtiBadSubscription)
      return this.refuse(call, GrpcStatus.INVALID_ARGUMENT, `${CtiBadSubscription.code}: ${sub.message}`);
    let session: CtiSession | undefined;
    const end = (): void => {
      if (session) this.sessions.remove(session);
      session = undefined;
    };
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
    call.on('drain', () => this.guard(() => session?.drained()));
    session = this.sessions.add(peer, sub, {
      write: (m) => !call.cancelled && call.write(toWire(m)),
    });
  }

  private refuse(
    call: ServerWritableStream<SubscribeRequest, WireMessage>,
    code: GrpcStatus,
    details: string,
  ): void {
    this.sessions.refuse();
    call.emit('error', { code, details });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!this.stopping) this.o.onFailure(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function subscriptionOf(r: SubscribeRequest): CtiSubscription | CtiBadSubscription {
  const parsed = SubscriptionSchema.safeParse({
    domains: r.domains,
    ...(r.resume && { after: r.after }),
    ...(r.stream !== '' && { stream: r.stream }),
  });
  if (parsed.success) return parsed.data;
  const i = parsed.error.issues[0];
  return new CtiBadSubscription(`${i?.path.join('.') || 'request'}: ${i?.message ?? 'invalid'}`);
}

function toWire(m: CtiOutbound): WireMessage {
  switch (m.type) {
    case 'hello':
      return { hello: { stream: m.stream, first: m.first, last: m.last, resumed: m.resumed } };
    case 'gap':
      return { gap: { after: m.after, missed: m.missed } };
    case 'event': {
      const e = m.event;
      return {
        event: {
          seq: e.seq,
          kind: e.kind,
          host: e.host,
          uuid: e.uuid,
          call_id: e.callId ?? '',
          direction: e.direction ?? '',
          domain: e.domain ?? '',
          caller: e.caller ?? '',
          callee: e.callee ?? '',
          partner: e.partner ?? '',
          conference: e.conference ?? '',
          cause: e.cause ?? '',
          recovered: e.recovered,
          destination: e.destination ?? '',
          recording: e.recording ?? '',
          at: e.at,
        },
      };
    }
    default: {
      const never: never = m;
      return never;
    }
  }
}
