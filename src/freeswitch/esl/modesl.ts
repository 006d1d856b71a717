import { EventEmitter } from 'node:events';
import modesl from 'modesl';
import type { ModeslEvent, Parser } from 'modesl';
import { EslProtocolError } from './errors.ts';
import type { EslEvent } from './event.ts';
import { decodeHeaderValue, headerString, toEslEvent } from './event.ts';

/**
 * The one importer of modesl (1.2.1, pinned: the guards below patch members of its Parser).
 *
 * Why modesl's Parser over our own socket, and not its Connection: every defect we must guard lives in
 * Connection or in how the Parser is driven. Connection matches replies by position in two separate queues (api
 * and command) and leaves them hanging when the socket ends (#58, #84), has no deadline, sends `event json …`
 * right after auth on its own, emits `error` (which throws with no listener) and never reconnects (#34); its
 * parser runs inside the socket's `data` handler, where any throw ends the process. Taking the Parser alone, we
 * own the socket, the reply queue and the deadlines (client.ts), and feed the Parser from a private emitter
 * inside a try/catch, so that nothing it throws can reach the socket's handler. Framing, body parsing (json,
 * plain, xml) and the Event record stay modesl's.
 *
 * Guards on the Parser instance:
 * - `_parseHeaderText` is replaced: values are URL-decoded through {@link decodeHeaderValue} (a bad %-sequence,
 *   e.g. an emoji's surrogate halves, keeps its raw text instead of throwing — #59); a line that is not
 *   `Name: value` and a `Content-Length` that is not a decimal integer within `maxFrameBytes` are protocol errors
 *   (modesl would parse garbage into headers, and buffer a body of any announced size).
 * - `_indexOfHeaderEnd` becomes `Buffer.indexOf` (modesl's byte loop rescans the whole buffer per chunk: a frame
 *   arriving a byte at a time costs O(n²) in JavaScript).
 * - After every chunk, an unterminated header block above `maxFrameBytes` is a protocol error (modesl buffers
 *   without limit while it waits for the blank line).
 * - The Parser's `error` (a json/xml event body that does not parse) has a listener, so it cannot throw; the
 *   frame it belongs to is then turned into a protocol error rather than delivered without its headers.
 * - Frames are checked for a known Content-Type; anything else is a protocol error.
 * A decoder that has thrown is spent: the client closes the connection, because after a framing error nothing
 * says where the next frame starts.
 */

/** One ESL frame, classified. */
export type Frame =
  | { type: 'auth/request' }
  | { type: 'command/reply'; reply: string; headers: Readonly<Record<string, string>> }
  | { type: 'api/response'; body: string }
  | { type: 'event'; event: EslEvent }
  | { type: 'disconnect-notice'; text: string }
  | { type: 'rude-rejection'; text: string }
  | { type: 'log' };

export interface FrameDecoderOptions {
  /** A header block or a body above this is a protocol error. */
  maxFrameBytes: number;
  onFrame(frame: Frame): void;
  /** A header whose value could not be URL-decoded (kept raw). */
  onUndecodable?(name: string): void;
}

/** Turns socket chunks into {@link Frame}s with modesl's Parser; `push` throws EslProtocolError on bad input. */
export class FrameDecoder {
  private readonly feed = new EventEmitter();
  private readonly parser: Parser;
  private bodyError: unknown = undefined;
  private spent = false;

  constructor(private readonly o: FrameDecoderOptions) {
    this.parser = new modesl.Parser(this.feed);
    guardParser(this.parser, o);
    this.parser.on('error', (err: unknown) => {
      this.bodyError = err ?? new Error('unparsable event body');
    });
    this.parser.on(
      'esl::event',
      (event: ModeslEvent, headers: Record<string, string | number>, body: string | undefined) => {
        this.frame(event, headers, body);
      },
    );
  }

  /** Feeds one chunk; frames complete in it are delivered (synchronously) before this returns. */
  push(chunk: Buffer): void {
    if (this.spent) throw new EslProtocolError('ESL decoder used after a protocol error');
    try {
      // modesl's Parser recurses once per frame in its buffer; 64 KiB pieces (a socket read's size) keep that
      // depth to a few thousand even for the smallest frames.
      for (let at = 0; at < chunk.length; at += PIECE) this.feed.emit('data', chunk.subarray(at, at + PIECE));
      if (this.parser.bodyLen === 0 && this.parser.buffer.length > this.o.maxFrameBytes) {
        throw new EslProtocolError(
          `ESL header block above ${this.o.maxFrameBytes} bytes without its blank line`,
          { details: { limit: this.o.maxFrameBytes } },
        );
      }
    } catch (err) {
      this.spent = true;
      if (err instanceof EslProtocolError) throw err;
      // A RangeError from modesl's recursion over a flood of tiny frames, a TypeError from a broken xml body,
      // or a throw from onFrame: the stream cannot be trusted past this point either way.
      throw new EslProtocolError(`ESL frame could not be parsed: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
    }
  }

  private frame(
    event: ModeslEvent,
    headers: Record<string, string | number>,
    body: string | undefined,
  ): void {
    const type = headers['Content-Type'];
    if (this.bodyError !== undefined) {
      const cause = this.bodyError;
      this.bodyError = undefined;
      throw new EslProtocolError(`ESL ${String(type)} frame: the event body does not parse`, { cause });
    }
    if (typeof type !== 'string') throw new EslProtocolError('ESL frame without a Content-Type');
    switch (type) {
      case 'auth/request':
        return this.o.onFrame({ type });
      case 'command/reply': {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(headers)) h[k] = headerString(v);
        return this.o.onFrame({ type, reply: h['Reply-Text'] ?? '', headers: h });
      }
      case 'api/response':
        return this.o.onFrame({ type, body: body ?? '' });
      case 'text/event-json':
      case 'text/event-plain':
      case 'text/event-xml': {
        const e = toEslEvent({ headers: event.headers, body: event.body });
        if (!e) throw new EslProtocolError(`ESL ${type} frame without an Event-Name`);
        return this.o.onFrame({ type: 'event', event: e });
      }
      case 'text/disconnect-notice':
        return this.o.onFrame({ type: 'disconnect-notice', text: (body ?? '').trim() });
      case 'text/rude-rejection':
        return this.o.onFrame({ type: 'rude-rejection', text: (body ?? '').trim() });
      case 'log/data':
        return this.o.onFrame({ type: 'log' });
      default:
        throw new EslProtocolError('ESL frame of an unknown Content-Type', {
          details: { contentType: type.slice(0, 64) },
        });
    }
  }
}

const DECIMAL = /^\d{1,16}$/;
const PIECE = 64 * 1024;

function guardParser(parser: Parser, o: FrameDecoderOptions): void {
  parser._indexOfHeaderEnd = function (this: Parser): number {
    return this.buffer.indexOf('\n\n');
  };
  parser._parseHeaderText = (txt: string): Record<string, string | number> => {
    const headers: Record<string, string | number> = {};
    for (const line of txt.split('\n')) {
      if (line === '') continue;
      const colon = line.indexOf(': ');
      // FreeSWITCH writes every header as `Name: value` (value possibly empty, still after ': ').
      if (colon <= 0) throw new EslProtocolError('ESL header line is not `Name: value`');
      const name = line.slice(0, colon);
      const raw = line.slice(colon + 2);
      if (name === 'Content-Length') {
        if (!DECIMAL.test(raw)) throw new EslProtocolError('ESL Content-Length is not a decimal integer');
        const n = Number(raw);
        if (n > o.maxFrameBytes) {
          throw new EslProtocolError(`ESL frame of ${n} bytes above the limit of ${o.maxFrameBytes}`, {
            details: { contentLength: n, limit: o.maxFrameBytes },
          });
        }
        headers[name] = n;
        continue;
      }
      const value = decodeHeaderValue(raw);
      if (value === raw && raw.includes('%') && o.onUndecodable) o.onUndecodable(name);
      // `__proto__` from the peer must stay a plain key (Event copies keys with Object.keys).
      if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true });
      else headers[name] = value;
    }
    return headers;
  };
}

/**
 * The benchmark's baseline: modesl's own Connection, unguarded, counting events named `eventName`. Not for
 * production use — it has every defect the client guards against.
 */
export function bareModeslEvents(
  host: string,
  port: number,
  password: string,
  eventName: string,
  onEvent: () => void,
): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const conn = new modesl.Connection(host, port, password, () => {
      conn.subscribe([eventName], () => resolve({ close: () => conn.disconnect() }));
    });
    conn.on('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
    conn.on(`esl::event::${eventName}::*`, () => onEvent());
  });
}
