import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_ASK_TIMEOUT_MS } from '../actor-system/actor-ref.ts';
import { MwareError } from '../errors.ts';
import type { Principal } from './auth.ts';
import type { ApiContext } from './context.ts';
import { dispatchMessage, mutexOp, releaseOwnerEverywhere, requireScope } from './dispatch.ts';
import { BadRequest, errorResponse, RouteNotFound } from './errors.ts';
import { requireIntake } from './intake.ts';
import { parse } from './route.ts';
import {
  LockRequest,
  MessageRequest,
  MutexKeyParams,
  ReleaseOwnerRequest,
  UnlockRequest,
} from './schemas.ts';
import { SCRIPT_CHANNEL_PATH, SCRIPT_PROTOCOL } from './script-protocol.ts';
import { StreamLimiter } from './sse.ts';
import type { StreamLimits } from './sse.ts';

/**
 * The script channel (03-interfaces.md): one persistent connection per script client, on the API's own port and
 * TLS, for the operations scripts make at high rates — send, ask, mutex lock/unlock/release-owner/inspect.
 *
 * - Opening: `GET /api/v1/channel` with `Upgrade: mware-script/1` and the bearer token. The token is checked once,
 *   here; a refusal is an ordinary HTTP response in the API's error shape (401, 503 …), and the connection closes.
 * - Then newline-delimited JSON frames both ways. A request `{"id": n, "op": …}` is answered by
 *   `{"id": n, "status": s, "body": …}` with the status and body the HTTP route would give, so the codes and the
 *   client's handling are the same. Requests are pipelined and answered as they complete (out of order, by id);
 *   each is checked against the token's scopes, as a request of the route would be.
 * - Bounds: a frame larger than {@link MAX_FRAME} closes the connection (after a 413 frame); at most
 *   {@link MAX_IN_FLIGHT} requests run per connection (reading pauses beyond that), reading also pauses while the
 *   client does not read its answers, and a client that falls {@link MAX_UNREAD} behind is disconnected; the open
 *   channels are capped for the node and per token.
 */

/** Largest request frame: the API's body limit. */
export const MAX_FRAME = 256 * 1024;
export const MAX_IN_FLIGHT = 256;
/** Answers a client may leave unread before it is dropped. */
export const MAX_UNREAD = 4 * 1024 * 1024;
const OPS = new Set(['ask', 'send', 'lock', 'unlock', 'release-owner', 'inspect']);
export const DEFAULT_CHANNEL_LIMITS: StreamLimits = { max: 256, perPrincipal: 64 };

/** One request frame, as the wire carries it (checked field by field per op). */
interface Frame {
  id: number;
  op: string;
  path?: unknown;
  type?: unknown;
  payload?: unknown;
  timeout_ms?: unknown;
  key?: unknown;
  body?: unknown;
}

export interface Answer {
  status: number;
  body: unknown;
}

export interface ChannelObserver {
  /** One request answered: for metrics. */
  answered(op: string, status: number, seconds: number): void;
}

export class ScriptChannels {
  private readonly sessions = new Set<Session>();
  private readonly limiter: StreamLimiter;

  constructor(
    private readonly ctx: ApiContext,
    private readonly observer: ChannelObserver,
    limits: StreamLimits = DEFAULT_CHANNEL_LIMITS,
  ) {
    this.limiter = new StreamLimiter(limits, 'script channels');
  }

  get open(): number {
    return this.sessions.size;
  }

  /** Takes the upgrade requests of `server` (other upgrades are refused with 404). */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** Closes every channel (the API is closing). */
  closeAll(): void {
    for (const s of this.sessions) s.destroy();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let principal: Principal;
    let giveBack: () => void;
    try {
      const path = (req.url ?? '').split('?')[0];
      if (path !== SCRIPT_CHANNEL_PATH) throw new RouteNotFound(`no channel at ${path ?? ''}`);
      if ((req.headers.upgrade ?? '').toLowerCase() !== SCRIPT_PROTOCOL)
        throw new BadRequest(`${SCRIPT_CHANNEL_PATH} speaks ${SCRIPT_PROTOCOL} only (the Upgrade header)`);
      principal = this.ctx.auth.authenticate(req.headers.authorization);
      requireIntake(this.ctx, false);
      giveBack = this.limiter.take(principal);
    } catch (err) {
      return refuse(socket, err);
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${SCRIPT_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`,
    );
    const session = new Session(this.ctx, principal, socket, this.observer, () => {
      this.sessions.delete(session);
      giveBack();
    });
    this.sessions.add(session);
    if (head.length > 0) session.receive(head);
  }
}

/** An HTTP refusal of an upgrade, in the API's error shape. */
function refuse(socket: Duplex, err: unknown): void {
  const { status, body } = errorResponse(err);
  const text = JSON.stringify(body);
  const extra =
    status === 401
      ? 'WWW-Authenticate: Bearer realm="mware"\r\n'
      : status === 503
        ? 'Retry-After: 1\r\n'
        : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  503: 'Service Unavailable',
};

class Session {
  private buffered = '';
  private readonly decoder = new StringDecoder('utf8');
  private inFlight = 0;
  private corked = false;
  private closed = false;

  constructor(
    private readonly ctx: ApiContext,
    private readonly principal: Principal,
    private readonly socket: Duplex,
    private readonly observer: ChannelObserver,
    private readonly onClose: () => void,
  ) {
    const tcp = socket as Partial<Socket>;
    tcp.setNoDelay?.(true);
    tcp.setKeepAlive?.(true, 30_000);
    // Not socket.setEncoding: an HTTP server's socket refuses it, even once upgraded.
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.flow());
    socket.on('close', () => this.destroy());
    socket.on('end', () => socket.end());
  }

  receive(bytes: Buffer): void {
    const chunk = this.decoder.write(bytes);
    let start = 0;
    let text = chunk;
    if (this.buffered !== '') {
      text = this.buffered + chunk;
      this.buffered = '';
    }
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.trim() !== '') this.request(line);
      if (this.closed) return;
    }
    const rest = start === 0 ? text : text.slice(start);
    if (rest.length > MAX_FRAME) {
      const tooLarge = new MwareError('MW_ERR_PAYLOAD_TOO_LARGE', `a frame is at most ${MAX_FRAME} bytes`);
      this.answer(null, errorResponse(tooLarge), 'frame', 0);
      this.socket.end();
      this.closed = true;
      return;
    }
    this.buffered = rest;
    this.flow();
  }

  private request(line: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(line) as Frame;
    } catch {
      // Not a frame at all: the peer does not speak the protocol; say so and hang up.
      this.answer(null, errorResponse(new BadRequest('a frame is one line of JSON')), 'frame', 0);
      this.socket.end();
      this.closed = true;
      return;
    }
    const id =
      typeof frame === 'object' && frame !== null && Number.isSafeInteger(frame.id) ? frame.id : null;
    if (id === null) {
      this.answer(null, errorResponse(new BadRequest('a request frame needs an integer "id"')), 'frame', 0);
      return;
    }
    const op = OPS.has(frame.op) ? frame.op : 'unknown';
    const t0 = performance.now();
    this.inFlight++;
    run(this.ctx, this.principal, frame).then(
      (a) => this.finish(id, a, op, t0),
      (err: unknown) => {
        const r = errorResponse(err);
        if (r.internal) this.ctx.log.error({ err, op }, 'script channel request failed');
        this.finish(id, { status: r.status, body: r.body }, op, t0);
      },
    );
  }

  private finish(id: number, a: Answer, op: string, t0: number): void {
    this.inFlight--;
    this.answer(id, a, op, t0);
    this.flow();
  }

  private answer(id: number | null, a: Answer, op: string, t0: number): void {
    if (t0 > 0) this.observer.answered(op, a.status, (performance.now() - t0) / 1000);
    if (this.socket.destroyed) return;
    const line = JSON.stringify(a.status === 503 ? { id, ...a, retry_after: 1 } : { id, ...a });
    // Answers completed in the same turn of the event loop leave in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(this.ctx.scrub(line) + '\n');
    if (this.socket.writableLength > MAX_UNREAD) this.socket.destroy();
  }

  /** Reads while there is room for more requests and the client reads its answers. */
  private flow(): void {
    if (this.closed || this.socket.destroyed) return;
    const full = this.inFlight >= MAX_IN_FLIGHT || this.socket.writableNeedDrain;
    if (full && !this.socket.isPaused()) this.socket.pause();
    else if (!full && this.socket.isPaused()) this.socket.resume();
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.closed = true;
    this.onClose();
  }
}

/** One request, run as its HTTP route would run it: the same checks, the same dispatch, the same answers. */
async function run(ctx: ApiContext, principal: Principal, f: Frame): Promise<Answer> {
  requireIntake(ctx, false);
  switch (f.op) {
    case 'ask':
    case 'send': {
      if (typeof f.path !== 'string' || !f.path.startsWith('/'))
        throw new BadRequest('frame.path: an actor path starting with "/"');
      const m = parse(
        MessageRequest,
        { type: f.type, payload: f.payload, timeout_ms: f.timeout_ms },
        'frame',
      );
      const ask = f.op === 'ask';
      const answer = await dispatchMessage(
        ctx,
        principal,
        f.path,
        { type: m.type, payload: m.payload, timeoutMs: m.timeout_ms ?? DEFAULT_ASK_TIMEOUT_MS },
        ask,
      );
      return { status: 'accepted' in answer ? 202 : 200, body: answer };
    }
    case 'lock': {
      requireScope(principal, 'mutex');
      const r = (await mutexOp(
        ctx,
        principal,
        'lock',
        keyOf(f),
        parse(LockRequest, f.body, 'frame.body'),
      )) as { granted: true; token: number; expires_at: number } | { granted: false; reason: string };
      return r.granted
        ? { status: 200, body: { granted: true, token: r.token, expires_at: r.expires_at } }
        : { status: 408, body: { granted: false, reason: r.reason } };
    }
    case 'unlock':
      requireScope(principal, 'mutex');
      await mutexOp(ctx, principal, 'unlock', keyOf(f), parse(UnlockRequest, f.body, 'frame.body'));
      return { status: 200, body: { released: true } };
    case 'release-owner': {
      requireScope(principal, 'mutex');
      const { owner } = parse(ReleaseOwnerRequest, f.body, 'frame.body');
      return { status: 200, body: await releaseOwnerEverywhere(ctx, principal, owner) };
    }
    case 'inspect':
      return { status: 200, body: await mutexOp(ctx, principal, 'inspect', keyOf(f), null) };
    default:
      throw new BadRequest(
        `frame.op: unknown operation ${JSON.stringify(f.op)}; one of ask, send, lock, unlock, release-owner, inspect`,
      );
  }
}

function keyOf(f: Frame): string {
  return parse(MutexKeyParams, { key: f.key }, 'frame').key;
}
