import type { FastifyReply, FastifyRequest } from 'fastify';

/** A server-sent events stream on a hijacked fastify reply: events, keep-alive comments, cleanup on close. */
export interface SseStream {
  send(event: string, data: unknown): void;
  onClose(fn: () => void): void;
  close(): void;
}

const KEEP_ALIVE_MS = 15_000;
/** A client this far behind is dropped (it reconnects) rather than buffered without end. */
const MAX_BUFFERED = 1024 * 1024;

/** `scrub` removes secrets from each event's text. */
export function openSse(req: FastifyRequest, reply: FastifyReply, scrub: (s: string) => string): SseStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write(': mware event stream\n\n');
  const closers: (() => void)[] = [];
  let closed = false;
  const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    for (const fn of closers) fn();
    raw.end();
  };
  req.raw.on('close', close);
  return {
    send(event, data) {
      if (closed) return;
      if (raw.writableLength > MAX_BUFFERED) return close();
      raw.write(`event: ${event}\ndata: ${scrub(JSON.stringify(data))}\n\n`);
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
    close,
  };
}
