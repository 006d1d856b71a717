import type { Socket as UdpSocket } from 'node:dgram';
import { createSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { createServer, isIPv6 } from 'node:net';
import { SyslogFramer } from './framing.ts';

/**
 * The syslog listeners: one UDP socket (a datagram is a message, RFC 5426) and one TCP server (RFC 6587 framing),
 * both on the role's internal address. They hand raw messages and garbage upwards; nothing a peer sends can throw
 * out of here.
 */

export interface SyslogSink {
  message(raw: string, sender: string): void;
  /** A datagram or TCP stream that was not syslog (`why` for the debug log). */
  garbage(why: string, sender: string): void;
}

export interface ListenOptions {
  address: string;
  udpPort?: number;
  tcpPort?: number;
  /** Longest message accepted (RFC 5425 asks receivers to take at least 2048 octets; rsyslog's default is 8k). */
  maxFrame: number;
  /** TCP connections at once; more are refused. */
  maxConnections: number;
}

export class SyslogListeners {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Set<Socket>();
  readonly bound: string[] = [];

  constructor(
    private readonly o: ListenOptions,
    private readonly sink: SyslogSink,
  ) {}

  async start(): Promise<void> {
    if (this.o.udpPort !== undefined) await this.startUdp(this.o.udpPort);
    if (this.o.tcpPort !== undefined) await this.startTcp(this.o.tcpPort);
  }

  private startUdp(port: number): Promise<void> {
    const sock = createSocket(isIPv6(this.o.address) ? 'udp6' : 'udp4');
    this.udp = sock;
    sock.on('message', (msg, rinfo) => this.sink.message(msg.toString('utf8'), rinfo.address));
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, this.o.address, () => {
        sock.off('error', reject);
        // A receive error on a bound UDP socket concerns one datagram, not the listener.
        sock.on('error', (err) => this.sink.garbage(err.message, this.o.address));
        this.bound.push(`udp://${this.o.address}:${sock.address().port}`);
        resolve();
      });
    });
  }

  private startTcp(port: number): Promise<void> {
    const server = createServer((c) => this.accept(c));
    server.maxConnections = this.o.maxConnections;
    this.tcp = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.o.address, () => {
        server.off('error', reject);
        const a = server.address();
        this.bound.push(`tcp://${this.o.address}:${typeof a === 'object' && a ? a.port : port}`);
        resolve();
      });
    });
  }

  private accept(c: Socket): void {
    this.conns.add(c);
    const sender = c.remoteAddress ?? 'unknown';
    const framer = new SyslogFramer(this.o.maxFrame);
    c.on('data', (chunk: Buffer) => {
      const { frames, error } = framer.push(chunk);
      for (const f of frames) this.sink.message(f.toString('utf8'), sender);
      if (error !== undefined) {
        this.sink.garbage(error, sender);
        c.destroy();
      }
    });
    c.on('end', () => {
      const { frames, error } = framer.end();
      for (const f of frames) this.sink.message(f.toString('utf8'), sender);
      if (error !== undefined) this.sink.garbage(error, sender);
    });
    c.on('error', () => c.destroy());
    c.on('close', () => this.conns.delete(c));
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
  }
}
