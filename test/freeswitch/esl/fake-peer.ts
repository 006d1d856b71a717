import assert from 'node:assert/strict';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';

/**
 * A tiny scripted ESL peer for the client's tests: a raw TCP server writing FreeSWITCH's framing byte for byte
 * (mod_event_socket's formats), doing the auth exchange itself and handing every later command to the test,
 * which answers it by hand. Not the simulator (test/harness/esl-simulator/): no channels, no state.
 */

export const GREETING = 'Content-Type: auth/request\n\n';

/** `command/reply` with `Reply-Text` (and extra headers after it, as bgapi's `Job-UUID`). */
export function commandReply(text: string, extra: Record<string, string> = {}): string {
  const more = Object.entries(extra)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
  return `Content-Type: command/reply\nReply-Text: ${text}\n${more}\n`;
}

export function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

export function bgapiReply(jobUuid: string): string {
  return commandReply(`+OK Job-UUID: ${jobUuid}`, { 'Job-UUID': jobUuid });
}

/** An event as `event json` sends it: Content-Length first, then Content-Type (mod_event_socket's order). */
export function jsonEvent(fields: Record<string, unknown>): string {
  const body = JSON.stringify(fields);
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
}

export function backgroundJob(jobUuid: string, result: string): string {
  return jsonEvent({
    'Event-Name': 'BACKGROUND_JOB',
    'Core-UUID': 'core-1',
    'Job-UUID': jobUuid,
    'Job-Command': 'status',
    'Content-Length': String(Buffer.byteLength(result)),
    _body: result,
  });
}

/**
 * An event as `event plain` sends it: each value as given (the caller URL-encodes, as FreeSWITCH does), a nested
 * Content-Length and body if any, the whole wrapped in an outer text/event-plain frame.
 */
export function plainEvent(encodedHeaders: Record<string, string>, body?: string): string {
  let inner = Object.entries(encodedHeaders)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
  inner += body === undefined ? '\n' : `Content-Length: ${Buffer.byteLength(body)}\n\n${body}`;
  return `Content-Length: ${Buffer.byteLength(inner)}\nContent-Type: text/event-plain\n\n${inner}`;
}

export function disconnectNotice(text: string): string {
  return `Content-Type: text/disconnect-notice\nContent-Length: ${Buffer.byteLength(text)}\n\n${text}`;
}

export function rudeRejection(text: string): string {
  return `Content-Type: text/rude-rejection\nContent-Length: ${Buffer.byteLength(text)}\n\n${text}`;
}

/** One accepted connection. */
export class PeerConn {
  /** Every byte received, in order. */
  received = '';
  /** Bytes received before the greeting was written (must stay empty). */
  receivedBeforeGreeting = '';
  greeted = false;
  readonly commands: string[] = [];
  private waiters: ((cmd: string) => void)[] = [];
  private unread: string[] = [];
  private pending = '';
  authed = false;

  constructor(
    readonly socket: Socket,
    private readonly o: Required<Pick<FakePeerOptions, 'password'>> & FakePeerOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('utf8')));
  }

  send(raw: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(raw);
  }

  greet(): void {
    this.greeted = true;
    this.send(GREETING);
  }

  /** The next command after auth (its text without the blank line). */
  nextCommand(): Promise<string> {
    const ready = this.unread.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Waits for `n` commands, in order. */
  async takeCommands(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.nextCommand());
    return out;
  }

  /** Writes `text` one byte per TCP write, yielding to the event loop between bytes. */
  async sendBytewise(text: string): Promise<void> {
    for (const byte of Buffer.from(text)) {
      this.send(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(text: string): void {
    this.received += text;
    if (!this.greeted) this.receivedBeforeGreeting += text;
    this.pending += text;
    let at: number;
    while ((at = this.pending.indexOf('\n\n')) !== -1) {
      const cmd = this.pending.slice(0, at);
      this.pending = this.pending.slice(at + 2);
      this.onCommand(cmd);
    }
  }

  private onCommand(cmd: string): void {
    if (!this.authed && cmd.startsWith('auth ')) {
      if (cmd.slice(5) === this.o.password) {
        this.authed = true;
        this.send(commandReply('+OK accepted'));
      } else {
        // mod_event_socket: -ERR invalid, then the disconnect notice, then close.
        this.send(commandReply('-ERR invalid'));
        this.send(disconnectNotice('Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n'));
        this.socket.end();
      }
      return;
    }
    this.commands.push(cmd);
    const waiter = this.waiters.shift();
    if (waiter) waiter(cmd);
    else this.unread.push(cmd);
  }
}

export interface FakePeerOptions {
  password?: string;
  /** Write the greeting on accept (default true); false: the test greets (or never does: a silent peer). */
  greet?: boolean;
  /** Delay before the greeting. */
  greetDelayMs?: number;
  /** Instead of the greeting, send this and close (e.g. a rude rejection). */
  onAccept?: (c: PeerConn) => void;
}

export interface FakePeer {
  readonly port: number;
  readonly host: string;
  readonly conns: PeerConn[];
  nextConn(): Promise<PeerConn>;
  close(): Promise<void>;
}

export async function startFakePeer(opts: FakePeerOptions = {}): Promise<FakePeer> {
  const o = { password: 'ClueCon', ...opts };
  const conns: PeerConn[] = [];
  const waiters: ((c: PeerConn) => void)[] = [];
  let taken = 0;
  const server: Server = createServer((socket) => {
    const c = new PeerConn(socket, o);
    conns.push(c);
    if (o.onAccept) o.onAccept(c);
    else if (o.greet !== false) {
      if (o.greetDelayMs) setTimeout(() => c.greet(), o.greetDelayMs);
      else c.greet();
    }
    const w = waiters.shift();
    if (w) w(c);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  return {
    port: addr.port,
    host: '127.0.0.1',
    conns,
    nextConn: () => {
      const ready = conns[taken];
      if (ready) {
        taken += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) =>
        waiters.push((c) => {
          taken += 1;
          resolve(c);
        }),
      );
    },
    close: async () => {
      for (const c of conns) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Collects what escapes to the process (uncaught exceptions, unhandled rejections) while a test file runs, so a
 * test can assert that nothing did: `const escaped = trackEscapes();` then `assert.deepEqual(escaped, [])`.
 */
export function trackEscapes(): unknown[] {
  const escaped: unknown[] = [];
  process.on('uncaughtException', (err) => escaped.push(err));
  process.on('unhandledRejection', (err) => escaped.push(err));
  return escaped;
}
