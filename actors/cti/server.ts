import type { Log } from '../../src/log/log.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import type { CtiFeed } from './feed.ts';
import type { CtiClientInfo } from './protocol.ts';
import type { SessionCounters } from './session.ts';

/** What every adapter server is given and what it offers its actor, whatever its wire protocol. */

export interface CtiServerOptions {
  address: string;
  port: number;
  /** The token clients must present; undefined: none is asked for. */
  token: string | undefined;
  feed: CtiFeed;
  clock: Clock;
  log: Log;
  /** Clients at once; more are refused. */
  maxClients: number;
  /** The server failed while it ran: its actor fails, and its supervisor starts a new one. */
  onFailure(err: Error): void;
}

export interface CtiServer {
  /** Binds and listens; rejects when it cannot (the port taken, the address not local). */
  start(): Promise<void>;
  /** Ends every client's stream (they reconnect and resume) and stops listening. */
  stop(): Promise<void>;
  /** `ws://addr:port`, `grpc://addr:port`. */
  readonly listening: string;
  readonly counters: Readonly<SessionCounters & { refused: number }>;
  clients(): CtiClientInfo[];
}

/** `addr:port`, with an IPv6 address in brackets. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
