import type { Socket } from 'node:net';
import { ChannelRefused } from './errors.ts';
import { frame, FrameReader } from './framing.ts';
import { clientProof, FrameSeal, nonce, sameProof, serverProof, sessionKey } from './session.ts';

/**
 * One authenticated node-channel connection (see session.ts for the handshake and the frame seal), from either
 * end. Messages are JSON objects with a `t` (type). Anything that does not verify — a wrong proof, a frame sealed
 * with another key or counter, bad JSON, an oversized frame — closes the connection and is reported, never
 * delivered; no code is ever sent or run.
 */

export interface ChannelMessage {
  t: string;
  [field: string]: unknown;
}

export interface ConnectionEvents {
  message(msg: ChannelMessage): void;
  /** The connection ended; `error` says why when it was refused or broke. */
  closed(error?: Error): void;
}

const HANDSHAKE_MS = 3_000;

export class Connection {
  private seal!: FrameSeal;
  private opener!: FrameSeal;
  private readonly reader = new FrameReader();
  private open = false;
  private ended = false;
  private events: ConnectionEvents | undefined;
  /** Messages that arrived before {@link listen}. */
  private backlog: ChannelMessage[] = [];

  private constructor(
    private readonly socket: Socket,
    /** The node at the other end, once the handshake proved it. */
    public peer: string,
  ) {}

  /** Runs the client side of the handshake on a connected socket. */
  static client(socket: Socket, o: { self: string; peer: string; secret: string }): Promise<Connection> {
    const c = new Connection(socket, o.peer);
    const cNonce = nonce();
    return c.handshake((recv, send) => {
      send({ t: 'hello', node: o.self, nonce: cNonce });
      return recv().then((challenge) => {
        const sNonce = text(challenge.nonce);
        if (challenge.t !== 'challenge' || challenge.node !== o.peer)
          throw new ChannelRefused(`${o.peer}: unexpected answer to hello`);
        if (!sameProof(challenge.proof, serverProof(o.secret, cNonce, sNonce, o.peer, o.self)))
          throw new ChannelRefused(`${o.peer} could not prove it knows the cluster secret`);
        send({ t: 'auth', proof: clientProof(o.secret, cNonce, sNonce, o.self, o.peer) });
        const key = sessionKey(o.secret, cNonce, sNonce);
        c.seal = new FrameSeal(key, 'c');
        c.opener = new FrameSeal(key, 's');
      });
    });
  }

  /** Runs the server side of the handshake on an accepted socket; `known` says which node names may connect. */
  static server(
    socket: Socket,
    o: { self: string; secret: string; known: (node: string) => boolean },
  ): Promise<Connection> {
    const c = new Connection(socket, '');
    return c.handshake(async (recv, send) => {
      const hello = await recv();
      const client = text(hello.node);
      const cNonce = text(hello.nonce);
      if (hello.t !== 'hello' || !o.known(client) || !/^[0-9a-f]{32}$/.test(cNonce))
        throw new ChannelRefused('a connection that is not a known node');
      const sNonce = nonce();
      send({
        t: 'challenge',
        node: o.self,
        nonce: sNonce,
        proof: serverProof(o.secret, cNonce, sNonce, o.self, client),
      });
      const auth = await recv();
      if (auth.t !== 'auth' || !sameProof(auth.proof, clientProof(o.secret, cNonce, sNonce, client, o.self)))
        throw new ChannelRefused(`${client} could not prove it knows the cluster secret`);
      c.peer = client;
      const key = sessionKey(o.secret, cNonce, sNonce);
      c.seal = new FrameSeal(key, 's');
      c.opener = new FrameSeal(key, 'c');
    });
  }

  /** Starts delivering messages (the handshake is over). */
  listen(events: ConnectionEvents): void {
    this.events = events;
    for (const m of this.backlog.splice(0)) events.message(m);
    if (this.ended) events.closed();
  }

  send(msg: ChannelMessage): boolean {
    if (!this.open || this.ended) return false;
    this.socket.write(frame(this.seal.seal(Buffer.from(JSON.stringify(msg)))));
    return true;
  }

  get alive(): boolean {
    return this.open && !this.ended;
  }

  close(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.events?.closed(error);
  }

  /** Bytes waiting to be written to the peer (backpressure). */
  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  private handshake(
    steps: (recv: () => Promise<ChannelMessage>, send: (m: ChannelMessage) => void) => Promise<void>,
  ): Promise<Connection> {
    const socket = this.socket;
    const queue: Buffer[] = [];
    let want: { resolve(m: ChannelMessage): void; reject(e: Error): void } | undefined;
    let failure: Error | undefined;
    const fail = (e: Error) => {
      failure ??= e;
      want?.reject(e);
      want = undefined;
    };
    const deliverPlain = () => {
      if (!want || queue.length === 0) return;
      const raw = queue.shift() as Buffer;
      const w = want;
      want = undefined;
      try {
        w.resolve(parse(raw));
      } catch (e) {
        w.reject(e as Error);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        return this.open ? this.close(e as Error) : fail(e as Error);
      }
      for (const f of frames) {
        if (!this.open) {
          queue.push(f);
          deliverPlain();
        } else this.receive(f);
      }
    });
    socket.on('error', (e) => (this.open ? this.close(e) : fail(e)));
    socket.on('close', () =>
      this.open ? this.close() : fail(new ChannelRefused('the connection closed during the handshake')),
    );
    const recv = () =>
      new Promise<ChannelMessage>((resolve, reject) => {
        if (failure) return reject(failure);
        want = { resolve, reject };
        deliverPlain();
      });
    const send = (m: ChannelMessage) => void socket.write(frame(Buffer.from(JSON.stringify(m))));
    const timer = setTimeout(() => fail(new ChannelRefused('the handshake took too long')), HANDSHAKE_MS);
    return steps(recv, send).then(
      () => {
        clearTimeout(timer);
        this.open = true;
        // Frames that came right behind the handshake's last one.
        for (const f of queue.splice(0)) this.receive(f);
        return this;
      },
      (e: Error) => {
        clearTimeout(timer);
        this.ended = true;
        socket.destroy();
        throw e;
      },
    );
  }

  private receive(sealed: Buffer): void {
    if (this.ended) return;
    const payload = this.opener.open(sealed);
    if (!payload)
      return this.close(
        new ChannelRefused(`${this.peer}: a frame that does not verify (tampered or replayed)`),
      );
    let msg: ChannelMessage;
    try {
      msg = parse(payload);
    } catch (e) {
      return this.close(e as Error);
    }
    if (!this.events) return void this.backlog.push(msg);
    try {
      this.events.message(msg);
    } catch (e) {
      this.close(e as Error);
    }
  }
}

/** A field expected to be a string; anything else is an empty one (which no check accepts). */
function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function parse(raw: Buffer): ChannelMessage {
  const v = JSON.parse(raw.toString('utf8')) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as { t?: unknown }).t !== 'string')
    throw new ChannelRefused('a node-channel message must be an object with a type');
  return v as ChannelMessage;
}
