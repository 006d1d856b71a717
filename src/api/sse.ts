import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from './auth.ts';
import { TooManyStreams } from './errors.ts';

/**
 * Server-sent event streams on hijacked fastify replies: events, keep-alive comments, cleanup on close, and the two
 * bounds that keep a slow or hostile client from growing the node's memory:
 * - backpressure: a client whose unread data passes {@link MAX_BUFFERED} is disconnected (it reconnects and starts
 *   afresh) instead of being buffered without end;
 * - a cap on open streams, for the node and per token, answered 503 with a stable code beyond it.
 */

export interface SseStream {
  send(event: string, data: unknown): void;
  onClose(fn: () => void): void;
  close(): void;
}

const KEEP_ALIVE_MS = 15_000;
/** Unread bytes a client may fall behind by before it is dropped. */
export const MAX_BUFFERED = 1024 * 1024;

export interface StreamLimits {
  /** Open streams on the node. */
  max: number;
  /** Open streams per token. */
  perPrincipal: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { max: 64, perPrincipal: 16 };

/** Counts open streams, for the node and per token. */
export class StreamLimiter {
  private total = 0;
  private readonly byPrincipal = new Map<string, number>();

  constructor(
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
    /** What is counted, for the refusals: event streams, script channels. */
    private readonly what = 'event streams',
  ) {}

  get open(): number {
    return this.total;
  }

  /** Takes a slot for `who`, or throws TooManyStreams; returns the function that gives it back (once). */
  take(who: Principal | null): () => void {
    const name = who?.name ?? '';
    const mine = this.byPrincipal.get(name) ?? 0;
    if (this.total >= this.limits.max)
      throw new TooManyStreams(`the node has ${this.total} open ${this.what}, its limit; retry later`);
    if (mine >= this.limits.perPrincipal)
      throw new TooManyStreams(
        `the token "${name}" has ${mine} open ${this.what}, its limit; close one first`,
      );
    this.total++;
    this.byPrincipal.set(name, mine + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total--;
      const left = (this.byPrincipal.get(name) ?? 1) - 1;
      if (left > 0) this.byPrincipal.set(name, left);
      else this.byPrincipal.delete(name);
    };
  }
}

/** Opens a stream (a slot is taken first: beyond the limits this throws before anything is written). */
export function openSse(
  req: FastifyRequest,
  reply: FastifyReply,
  o: { scrub: (s: string) => string; limiter: StreamLimiter },
): SseStream {
  const giveBack = o.limiter.take(req.principal);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const closers: (() => void)[] = [giveBack];
  let closed = false;
  const write = (text: string) => {
    if (closed) return;
    if (raw.writableLength > MAX_BUFFERED) {
      // Too far behind: drop the client rather than its memory growing here.
      close();
      raw.destroy();
      return;
    }
    raw.write(text);
  };
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    for (const fn of closers) fn();
    raw.end();
  };
  req.raw.on('close', close);
  write(': mware event stream\n\n');
  return {
    send(event, data) {
      write(`event: ${event}\ndata: ${o.scrub(JSON.stringify(data))}\n\n`);
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
    close,
  };
}
