import { z } from 'zod';
import type { CallEvent } from '../../src/freeswitch/call-events.ts';

/**
 * What a CTI client and an adapter server say to each other, whatever the adapter's wire format (JSON over
 * WebSocket, protobuf over gRPC: `config/mware-cti.proto`), and the messages of the actor at `/services/cti/<key>`.
 *
 * A client subscribes once: its token, the domains it follows, and where it resumes. The server answers `hello`,
 * then the events in sequence order — replayed from the buffer first, then live — and a `gap` wherever events it
 * should have had already left the bounded buffer.
 */

const MAX_DOMAINS = 1_000;

export const CtiSubscription = z.strictObject({
  token: z.string().max(1_024).optional(),
  /** Only events of these domains and their subdomains; empty: every event, including those with no domain. */
  domains: z.array(z.string().min(1).max(253)).max(MAX_DOMAINS).default([]),
  /** Resume after this sequence number (the last one the client handled); absent: live events only. */
  after: z.int().min(0).optional(),
  /** The `stream` of the hello the client had when it got `after`; another stream's numbers mean nothing here. */
  stream: z.string().max(64).optional(),
});
export type CtiSubscription = z.infer<typeof CtiSubscription>;

export interface CtiHello {
  type: 'hello';
  /** This run of sequence numbers (see `CtiFeed`). */
  stream: string;
  /** Oldest and newest sequence numbers the server holds now. */
  first: number;
  last: number;
  /** The client's `after` was honoured (false: it named another stream, so everything held is replayed). */
  resumed: boolean;
}

/** A call event with its sequence number (`event.seq`): the number a client resumes after. */
export interface CtiEventMessage {
  type: 'event';
  event: CallEvent & { seq: number };
}

/** Events after `after` that this client will not get: they left the bounded buffer first. */
export interface CtiGap {
  type: 'gap';
  after: number;
  missed: number;
}

export type CtiOutbound = CtiHello | CtiEventMessage | CtiGap;

/** One connected client, as the status and the API show it (never its token). */
export interface CtiClientInfo {
  id: number;
  peer: string;
  domains: string[];
  connected_at: number;
  /** Sequence number it has been given up to (events it filtered out count as given). */
  cursor: number;
  sent: number;
  gaps: number;
}

export interface CtiAdapterStatus {
  key: string;
  /** Where it listens (`ws://addr:port`, `grpc://addr:port`). */
  listening: string;
  stream: string;
  buffer: { capacity: number; held: number; first: number; last: number };
  clients: number;
  /** Connections refused since this server started: bad token, bad subscription, too many clients. */
  refused: number;
  /** Events sent to clients since this server started, summed over clients. */
  sent: number;
  /** Gap notices sent (a client that fell behind further than the buffer). */
  gaps: number;
}

export type CtiAdapterProtocol = {
  status: { request: null; reply: CtiAdapterStatus; scope: 'read' };
  clients: { request: null; reply: CtiClientInfo[]; scope: 'read' };
};
