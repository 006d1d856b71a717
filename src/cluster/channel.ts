import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { Log } from '../log/log.ts';
import { serializeError } from '../errors.ts';
import type { SerializedError } from '../errors.ts';
import { rehydrateError } from '../errors.ts';
import type { ChannelMessage } from './connection.ts';
import { Connection } from './connection.ts';
import { PeerLost, PeerUnavailable } from './errors.ts';

/**
 * The node channel (02-runtime.md "Routing"): node-to-node messages on the role's internal interface, every
 * connection authenticated and every frame sealed with the cluster secret (connection.ts). Each node dials the
 * peers it talks to (one connection per peer, made on demand and remade after a loss) and accepts the peers that
 * dial it; a request is answered on the connection it came on.
 *
 * A dialled peer whose connection was up and then ends is probed at once: if its host's kernel *refuses* the new
 * connection (nothing listens on its port any more) the node is dead — proven, not merely silent — and
 * `onPeerDown(peer, true)` says so; a timeout or a hang says nothing (`proven: false`).
 */

export interface PeerAddress {
  host: string;
  port: number;
}

export interface ChannelOptions {
  self: string;
  host: string;
  port: number;
  secret: string;
  /** Every other node of the cluster by name. */
  peers: ReadonlyMap<string, PeerAddress>;
  log: Log;
  /** Answers a request from a peer; a rejection travels back as the error. */
  onRequest(from: string, body: unknown, timeoutMs: number): Promise<unknown>;
  /** Any other message from a peer (heartbeats); what it returns is sent back on the same connection. */
  onMessage?(from: string, msg: ChannelMessage): ChannelMessage | undefined;
  onPeerDown?(peer: string, proven: boolean): void;
  connectTimeoutMs?: number;
}

interface Pending {
  peer: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A dialled connection to one peer, made on demand. */
class Link {
  conn: Connection | undefined;
  connecting: Promise<Connection> | undefined;
  /** Was up since the last loss: its end is worth probing. */
  wasUp = false;
}

export class NodeChannel {
  private server: Server | undefined;
  private readonly links = new Map<string, Link>();
  private readonly inbound = new Set<Connection>();
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;

  constructor(private readonly o: ChannelOptions) {}

  async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    server.on('error', (err) =>
      this.o.log.error({ err: serializeError(err) }, 'node channel listener error'),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.o.host, port: this.o.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Sends a one-way message to a peer (dialling it if needed); false when it cannot be sent now. */
  async send(peer: string, msg: ChannelMessage): Promise<boolean> {
    const conn = await this.link(peer).catch(() => undefined);
    return conn?.send(msg) ?? false;
  }

  /** Asks a peer and waits for its answer (at most `timeoutMs`). */
  async request(peer: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const conn = await this.link(peer);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new PeerLost(`${peer} did not answer within ${timeoutMs} ms (the request may have been handled)`),
        );
      }, timeoutMs);
      this.pending.set(id, { peer, resolve, reject, timer });
      if (!conn.send({ t: 'req', id, body, timeoutMs })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new PeerUnavailable(`${peer}: the connection is gone`));
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const l of this.links.values()) l.conn?.close();
    for (const c of this.inbound) c.close();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new PeerUnavailable('the node channel is closing'));
      this.pending.delete(id);
    }
    const server = this.server;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  // ------------------------------------------------------------------------------------------- dialling peers

  private link(peer: string): Promise<Connection> {
    if (this.closed) return Promise.reject(new PeerUnavailable('the node channel is closed'));
    let l = this.links.get(peer);
    if (!l) this.links.set(peer, (l = new Link()));
    if (l.conn?.alive) return Promise.resolve(l.conn);
    if (l.connecting) return l.connecting;
    const link = l;
    link.connecting = this.dial(peer).then(
      (conn) => {
        link.connecting = undefined;
        link.conn = conn;
        link.wasUp = true;
        conn.listen({
          message: (m) => this.fromDialled(peer, m),
          closed: () => {
            if (link.conn !== conn) return;
            link.conn = undefined;
            this.failPendingOf(peer);
            // Probe at once: a refusal proves the peer's process is gone.
            if (!this.closed) void this.link(peer).catch(() => undefined);
          },
        });
        return conn;
      },
      (err: unknown) => {
        link.connecting = undefined;
        const proven = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
        if (link.wasUp || proven) {
          link.wasUp = false;
          this.o.onPeerDown?.(peer, proven);
        }
        throw new PeerUnavailable(`${peer}: ${(err as Error).message}`, { cause: err });
      },
    );
    return link.connecting;
  }

  private dial(peer: string): Promise<Connection> {
    const addr = this.o.peers.get(peer);
    if (!addr) return Promise.reject(new PeerUnavailable(`${peer} is not a node of this cluster`));
    return new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: addr.host, port: addr.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`connecting to ${peer} timed out`), { code: 'ETIMEDOUT' }));
      }, this.o.connectTimeoutMs ?? 1_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    }).then((socket) => Connection.client(socket, { self: this.o.self, peer, secret: this.o.secret }));
  }

  private fromDialled(peer: string, m: ChannelMessage): void {
    if (m.t === 'res') {
      const p = this.pending.get(Number(m.id));
      if (!p) return;
      this.pending.delete(Number(m.id));
      clearTimeout(p.timer);
      if (m.error) p.reject(rehydrateError(m.error as SerializedError));
      else p.resolve(m.result);
      return;
    }
    const answer = this.o.onMessage?.(peer, m);
    if (answer) this.links.get(peer)?.conn?.send(answer);
  }

  /** Requests travel on their peer's dialled link only: when it is lost, what is pending on it fails now. */
  private failPendingOf(peer: string): void {
    for (const [id, p] of this.pending) {
      if (p.peer !== peer) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(
        new PeerLost(
          `${peer}: the connection was lost before the answer (the request may have been handled)`,
        ),
      );
    }
  }

  // ------------------------------------------------------------------------------------------- accepted peers

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    Connection.server(socket, {
      self: this.o.self,
      secret: this.o.secret,
      known: (n) => this.o.peers.has(n),
    }).then(
      (conn) => {
        this.inbound.add(conn);
        conn.listen({
          message: (m) => this.fromAccepted(conn, m),
          closed: () => this.inbound.delete(conn),
        });
      },
      (err: unknown) =>
        this.o.log.warn(
          { error: serializeError(err).message, from: socket.remoteAddress },
          'node channel refused a connection',
        ),
    );
  }

  private fromAccepted(conn: Connection, m: ChannelMessage): void {
    if (m.t !== 'req') {
      const answer = this.o.onMessage?.(conn.peer, m);
      if (answer) conn.send(answer);
      return;
    }
    const id = m.id;
    const timeoutMs = typeof m.timeoutMs === 'number' ? m.timeoutMs : 30_000;
    // A handler that throws at once is answered like one that rejects: nothing a peer sends can escape as an
    // uncaught exception.
    Promise.resolve()
      .then(() => this.o.onRequest(conn.peer, m.body, timeoutMs))
      .then(
        (result) => conn.send({ t: 'res', id, result: result ?? null }),
        (err: unknown) => conn.send({ t: 'res', id, error: serializeError(err) }),
      );
  }
}
