import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The node's HTTP-01 responder (RFC 8555 §8.3): answers `GET /.well-known/acme-challenge/<token>` with the key
 * authorization while a challenge is pending, 404 otherwise. It holds nothing secret: a key authorization is
 * meant to be fetched by anyone.
 */

const PREFIX = '/.well-known/acme-challenge/';
/** RFC 8555 §8.3: a token is base64url. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export class ChallengeServer {
  private readonly answers = new Map<string, string>();
  private server: Server | undefined;

  constructor(
    private readonly address: string,
    private readonly port: number,
  ) {}

  /** Binds; rejects when the port is taken (the actor then fails and its supervisor retries). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const url = req.url ?? '';
      const token = url.startsWith(PREFIX) ? url.slice(PREFIX.length) : '';
      const answer = TOKEN.test(token) ? this.answers.get(token) : undefined;
      if ((req.method !== 'GET' && req.method !== 'HEAD') || answer === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(answer);
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    const host = this.address.includes(':') ? `[${this.address}]` : this.address;
    return `http://${host}:${a?.port ?? this.port}`;
  }

  set(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
  }

  clear(token: string): void {
    this.answers.delete(token);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
