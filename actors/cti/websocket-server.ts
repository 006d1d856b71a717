import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { bearerToken, tokenAccepts } from './auth.ts';
import { CtiBadSubscription, CtiUnauthorized } from './errors.ts';
import type { CtiOutbound } from './protocol.ts';
import { CtiSubscription } from './protocol.ts';
import type { CtiServer, CtiServerOptions } from './server.ts';
import { hostPort } from './server.ts';
import type { CtiSession } from './session.ts';
import { CtiSessions } from './sessions.ts';

/**
 * The `generic.json.websocket` adapter: one JSON text message each way per item. The client's first message is its
 * subscription, `{"type":"subscribe","token":…,"domains":[…],"after":N,"stream":"…"}` (the token may come as an
 * `Authorization: Bearer` header of the upgrade instead); the server answers `hello`, then `event` and `gap`
 * messages (protocol.ts). Refusals close the socket with a code and the error's `MW_ERR_…` code as the reason.
 */

/** WebSocket close codes (4000-4999: the application's own). */
export const WS_CLOSE = {
  badSubscription: 4400,
  unauthorized: 4401,
  subscribeTimeout: 4408,
  /** RFC 6455 1013 "try again later": the server has as many clients as it takes. */
  full: 1013,
  /** RFC 6455 1001 "going away": the server stops; reconnect and resume. */
  stopping: 1001,
} as const;

const SUBSCRIBE_TIMEOUT_MS = 5_000;
/** A subscription is small; anything bigger is not one. */
const MAX_PAYLOAD = 64 * 1024;
/** Congested above this many bytes queued or messages not yet written to the socket; drained again below LOW. */
const HIGH_BYTES = 1024 * 1024;
const HIGH_MESSAGES = 4_096;
const LOW_MESSAGES = 256;
/** Bytes sent as a text frame (they are UTF-8 JSON). */
const TEXT = { binary: false } as const;

export class WebSocketCtiServer implements CtiServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly sessions: CtiSessions;
  private bound = '';
  private stopping = false;
  /** The last event encoded: every client gets the same bytes, so it is encoded once (JSON and UTF-8). */
  private encoded: { seq: number; bytes: Buffer } = { seq: -1, bytes: Buffer.alloc(0) };

  constructor(private readonly o: CtiServerOptions) {
    this.sessions = new CtiSessions(o.feed, o.clock, o.maxClients);
    this.http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      res.end('a CTI client connects with WebSocket\n');
    });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: MAX_PAYLOAD });
    this.wss.on('connection', (ws, req) => this.guard(() => this.accept(ws, req)));
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
    return new Promise((resolve, reject) => {
      // ws re-emits the listener's errors on `wss` (and would throw one nobody listens to): before listening, one
      // fails the start; after, it is the running server's failure.
      const failStart = (err: Error): void => reject(err);
      this.wss.on('error', failStart);
      this.http.listen(this.o.port, this.o.address, () => {
        this.wss.off('error', failStart);
        this.wss.on('error', (err) => this.fail(err));
        const a = this.http.address();
        this.bound = `ws://${hostPort(this.o.address, typeof a === 'object' && a ? a.port : this.o.port)}`;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sessions.clear();
    // The port is let go of first, at once: a restarted server binds it again as soon as its backoff allows.
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    const open = [...this.wss.clients];
    for (const ws of open) ws.close(WS_CLOSE.stopping, 'server stopping');
    // A client that does not answer the close at once is cut off: a restart must not wait on it.
    await new Promise<void>((r) => {
      const t = setTimeout(r, 200);
      t.unref();
      let left = open.length;
      if (left === 0) r();
      for (const ws of open)
        ws.once('close', () => {
          if (--left === 0) r();
        });
    });
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await closed;
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const peer = hostPort(req.socket.remoteAddress ?? 'unknown', req.socket.remotePort ?? 0);
    ws.on('error', () => ws.terminate());
    if (this.stopping) return ws.close(WS_CLOSE.stopping, 'server stopping');
    // Connections not yet subscribed count too: each holds a socket for up to the subscribe timeout.
    if (this.wss.clients.size > this.o.maxClients) {
      this.sessions.refuse();
      return ws.close(WS_CLOSE.full, 'too many clients');
    }
    const headerToken = bearerToken(req.headers.authorization);
    const timer = setTimeout(
      () => this.refuse(ws, WS_CLOSE.subscribeTimeout, 'no subscription'),
      SUBSCRIBE_TIMEOUT_MS,
    );
    let session: CtiSession | undefined;
    ws.on('close', () => {
      clearTimeout(timer);
      if (session) this.sessions.remove(session);
    });
    ws.on('message', (data, isBinary) =>
      this.guard(() => {
        // After the subscription a client has nothing to say; what it sends is ignored.
        if (session) return;
        clearTimeout(timer);
        const sub = parseSubscription(data, isBinary);
        if (sub instanceof CtiBadSubscription) return this.refuse(ws, WS_CLOSE.badSubscription, sub.message);
        if (!tokenAccepts(this.o.token, sub.token ?? headerToken))
          return this.refuse(ws, WS_CLOSE.unauthorized, new CtiUnauthorized('bad or missing token').message);
        session = this.sessions.add(
          peer,
          sub,
          this.sink(ws, req.socket, () => session),
        );
      }),
    );
  }

  private refuse(ws: WebSocket, code: number, why: string): void {
    this.sessions.refuse();
    const error = code === WS_CLOSE.unauthorized ? CtiUnauthorized : CtiBadSubscription;
    // A close reason is at most 123 bytes.
    ws.close(code, `${error.code}: ${why}`.slice(0, 120));
  }

  private sink(ws: WebSocket, socket: Socket, session: () => CtiSession | undefined) {
    let inFlight = 0;
    let congested = false;
    let corked = false;
    const uncork = (): void => {
      corked = false;
      socket.uncork();
    };
    const written = (): void => {
      inFlight--;
      if (congested && inFlight <= LOW_MESSAGES && ws.readyState === ws.OPEN) {
        congested = false;
        this.guard(() => session()?.drained());
      }
    };
    return {
      write: (m: CtiOutbound): boolean => {
        if (ws.readyState !== ws.OPEN) return false;
        // The frames of one turn (a burst of events, a catch-up) leave in one write, not one system call each.
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(uncork);
        }
        inFlight++;
        ws.send(this.encode(m), TEXT, written);
        congested = inFlight >= HIGH_MESSAGES || ws.bufferedAmount >= HIGH_BYTES;
        return !congested;
      },
    };
  }

  private encode(m: CtiOutbound): Buffer {
    if (m.type !== 'event') return Buffer.from(JSON.stringify(m));
    if (this.encoded.seq !== m.event.seq)
      this.encoded = { seq: m.event.seq, bytes: Buffer.from(JSON.stringify(m)) };
    return this.encoded.bytes;
  }

  /** Runs a callback of the sockets: an exception in mware's own code there is the server's failure, not the node's. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.stopping) return;
    this.o.onFailure(err instanceof Error ? err : new Error(String(err)));
  }
}

function parseSubscription(data: RawData, isBinary: boolean): CtiSubscription | CtiBadSubscription {
  if (isBinary) return new CtiBadSubscription('the subscription is a JSON text message');
  let json: unknown;
  try {
    json = JSON.parse(rawText(data));
  } catch {
    return new CtiBadSubscription('the subscription is not JSON');
  }
  if (typeof json !== 'object' || json === null || (json as { type?: unknown }).type !== 'subscribe')
    return new CtiBadSubscription('the first message must be {"type":"subscribe", …}');
  const { type: _type, ...rest } = json as Record<string, unknown>;
  const r = CtiSubscription.safeParse(rest);
  if (!r.success) {
    const i = r.error.issues[0];
    return new CtiBadSubscription(`${i?.path.join('.') || 'subscription'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
