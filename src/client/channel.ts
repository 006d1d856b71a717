import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { SCRIPT_CHANNEL_PATH, SCRIPT_PROTOCOL } from '../api/script-protocol.ts';

/**
 * The client end of a node's script channel (03-interfaces.md; the server is src/api/script-channel.ts): one
 * persistent connection to one node, opened on first use with the token, requests pipelined on it and matched to
 * their answers by id. While no request is waiting the connection does not keep the process alive.
 *
 * An outcome says what the caller may do next:
 * - `answer`: the node answered (the same status and body as the HTTP route would give);
 * - `refused`: nothing listens there (connection refused): never delivered, safe to send elsewhere;
 * - `fallback`: the channel cannot be used (an older node, a proxy that does not pass upgrades): use HTTP;
 * - `lost`: sent, but the connection ended or the deadline passed before an answer: it may have been handled.
 */

export type ChannelOutcome =
  | { kind: 'answer'; status: number; body: unknown; retryAfterMs: number }
  | { kind: 'refused' | 'fallback' | 'lost'; error: Error };

interface Pending {
  resolve(o: ChannelOutcome): void;
  timer: NodeJS.Timeout;
}

export class ScriptChannelClient {
  private socket: Socket | undefined;
  private opening: Promise<ChannelOutcome | Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = '';
  /** The node answered the upgrade with 404: it has no channel; HTTP from now on. */
  private unsupported = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async call(
    frame: Record<string, unknown>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ChannelOutcome> {
    if (this.unsupported) return { kind: 'fallback', error: new Error('the node has no script channel') };
    const opened = this.socket ?? (await (this.opening ??= this.open(timeoutMs)));
    if (!('write' in opened)) return opened;
    const id = this.nextId++;
    return new Promise<ChannelOutcome>((resolve) => {
      const onAbort = () => done({ kind: 'lost', error: signal?.reason as Error });
      const done = (o: ChannelOutcome) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.size === 0) this.socket?.unref();
        resolve(o);
      };
      const timer = setTimeout(
        () => done({ kind: 'lost', error: new Error('no answer within the deadline') }),
        timeoutMs,
      );
      this.pending.set(id, { resolve: done, timer });
      signal?.addEventListener('abort', onAbort, { once: true });
      opened.ref();
      opened.write(JSON.stringify({ id, ...frame }) + '\n');
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(timeoutMs: number): Promise<ChannelOutcome | Socket> {
    const u = new URL(this.url + SCRIPT_CHANNEL_PATH);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<ChannelOutcome | Socket>((resolve) => {
      const req: ClientRequest = request(u, {
        headers: {
          connection: 'Upgrade',
          upgrade: SCRIPT_PROTOCOL,
          authorization: `Bearer ${this.token}`,
        },
        timeout: timeoutMs,
      });
      req.on('upgrade', (_res: IncomingMessage, socket: Socket, head: Buffer) => {
        this.attach(socket);
        if (head.length > 0) this.receive(head.toString('utf8'));
        resolve(socket);
      });
      req.on('response', (res: IncomingMessage) => {
        // Refused: an answer of the node's own (401, 503 …), or no channel at all (404: an older node).
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 404 || res.statusCode === 426) {
            this.unsupported = true;
            return resolve({ kind: 'fallback', error: new Error(`no script channel (${res.statusCode})`) });
          }
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({
            kind: 'answer',
            status: res.statusCode ?? 500,
            body,
            retryAfterMs: Number(res.headers['retry-after'] ?? 0) * 1000 || 0,
          });
        });
      });
      req.on('timeout', () => req.destroy(new Error('the script channel did not open in time')));
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ kind: err.code === 'ECONNREFUSED' ? 'refused' : 'fallback', error: err }),
      );
      req.end();
    }).finally(() => (this.opening = undefined));
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.buffered = '';
      for (const p of [...this.pending.values()])
        p.resolve({ kind: 'lost', error: new Error('the script channel closed before the answer') });
    });
    if (this.pending.size === 0) socket.unref();
  }

  private receive(chunk: string): void {
    const text = this.buffered + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      let a: { id?: unknown; status?: unknown; body?: unknown; retry_after?: unknown };
      try {
        a = JSON.parse(line) as typeof a;
      } catch {
        continue;
      }
      if (typeof a.id !== 'number' || typeof a.status !== 'number') continue;
      this.pending.get(a.id)?.resolve({
        kind: 'answer',
        status: a.status,
        body: a.body,
        retryAfterMs: typeof a.retry_after === 'number' ? a.retry_after * 1000 : 0,
      });
    }
    this.buffered = text.slice(start);
  }
}
