import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** One frame as received: its raw bytes, headers and body (tests check the bytes themselves). */
export interface RawFrame {
  raw: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A bare ESL peer for the simulator's own tests: no library in between, so the framing under test is the bytes
 * on the socket.
 */
export class RawEsl {
  private buf = Buffer.alloc(0);
  private readonly frames: RawFrame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawEsl> {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    return new RawEsl(s);
  }

  /** Connects, reads the greeting and authenticates. */
  static async authed(port: number, password = 'ClueCon'): Promise<RawEsl> {
    const c = await RawEsl.open(port);
    await c.next();
    c.send(`auth ${password}`);
    const r = await c.next();
    if (r.headers['Reply-Text'] !== '+OK accepted') throw new Error(`auth failed: ${r.raw}`);
    return c;
  }

  send(command: string): void {
    this.socket.write(`${command}\n\n`);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\n\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const headers: Record<string, string> = {};
      for (const line of head.split('\n')) {
        const i = line.indexOf(': ');
        if (i > 0) headers[line.slice(0, i)] = line.slice(i + 2);
      }
      const len = Number(headers['Content-Length'] ?? 0);
      if (this.buf.length < end + 2 + len) return;
      const body = this.buf.subarray(end + 2, end + 2 + len).toString('latin1');
      const raw = this.buf.subarray(0, end + 2 + len).toString('latin1');
      this.buf = this.buf.subarray(end + 2 + len);
      this.frames.push({ raw, headers, body });
      this.wake();
    }
  }

  /** The next frame (rejects after `ms`, or when the socket closed with nothing left). */
  async next(ms = 5_000): Promise<RawFrame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.closed) throw new Error('closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timeout waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The next frame that satisfies `pred`, skipping others. */
  async until(pred: (f: RawFrame) => boolean, ms = 5_000): Promise<RawFrame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(f)) return f;
    }
  }

  /** Resolves once the peer closed the socket. */
  async waitClosed(ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async api(command: string, ms = 10_000): Promise<string> {
    this.send(`api ${command}`);
    const f = await this.until((x) => x.headers['Content-Type'] === 'api/response', ms);
    return f.body;
  }

  /** Parsed JSON events received so far and later, by name. */
  static json(f: RawFrame): Record<string, string> {
    return JSON.parse(f.body) as Record<string, string>;
  }

  close(): void {
    this.socket.destroy();
  }
}
