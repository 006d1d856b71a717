import { fileURLToPath } from 'node:url';
import type { z } from 'zod';

/** What a caller's token must allow to send a message (`read`: any valid token). */
export type MessageScope = 'read' | 'send' | 'mutex' | 'calls' | 'admin';
import type { SerializedError } from '../errors.ts';
import type { Clock } from '../supervision/clock.ts';
import type { Log } from '../log/log.ts';

/**
 * What an actor kind is: a typed protocol (message type → request and reply), a factory that builds the
 * behaviour from its arguments, and optionally the state it owns. A kind is defined in a module of its own so a
 * forked or threaded process can load it by path.
 */

/**
 * Message type → request payload and reply; a message reachable from outside the node's code also names the scope
 * a caller needs (`scope`), and its kind's table (`messages`) must then declare it, with that scope.
 */
export type Protocol = Record<string, { request: unknown; reply: unknown; scope?: MessageScope }>;

/** The message types of `P` reachable from outside (those with a scope). */
export type PublicKeys<P extends Protocol> = {
  [K in keyof P]: P[K] extends { scope: MessageScope } ? K : never;
}[keyof P] &
  string;

/** The part of a protocol callers outside the node may use (what the client SDK types a call with). */
export type PublicProtocol<P extends Protocol> = Pick<P, PublicKeys<P>>;

export type Handlers<P extends Protocol> = {
  [K in keyof P]: (payload: P[K]['request']) => P[K]['reply'] | Promise<P[K]['reply']>;
};

/**
 * A handler table shared by every actor of a kind, kept on its class rather than built per actor: each handler is
 * called with the actor's behaviour as `this` (at tens of thousands of actors, closures per actor add up).
 */
export type HandlersOf<P extends Protocol, Self> = {
  [K in keyof P]: (this: Self, payload: P[K]['request']) => P[K]['reply'] | Promise<P[K]['reply']>;
};

/**
 * What an actor is while it runs: its handlers (own properties only are messages) and how it stops. Handlers are
 * called with the behaviour as `this`, so a class can return one table, a {@link HandlersOf}, for all its actors.
 */
export interface Behavior<P extends Protocol> {
  readonly handlers: Handlers<P>;
  /** Called once when the actor is stopped by its supervisor: release resources, answer waiting requests. */
  stop?(): void | Promise<void>;
  /**
   * A failure of the actor's *work* while the actor itself runs on (a backup run that failed, to be retried): the
   * tree shows it as the actor's `lastError` while it lasts. Read on every tree snapshot: keep it cheap.
   */
  problem?(): SerializedError | undefined;
}

/** What an actor's state declaration gives it: what was restored, and a way to save. */
export interface StateHandle<S> {
  /** The state saved by a previous incarnation (or another node before a takeover), if any. */
  readonly restored: S | undefined;
  /** Saves the state; resolves when it is as durable as the role's `state_mode` makes it. */
  save(value: S): Promise<void>;
  /** Forgets the saved state (there is nothing worth keeping); as durable as a save. */
  clear(): Promise<void>;
  /**
   * True when a save resolves only once the state is durably stored (`transactional`): an actor waits for it
   * before acknowledging a change. Otherwise a save is as durable as it will be when it returns, and an actor
   * need not wait.
   */
  readonly durable: boolean;
}

export interface ActorContext<S = never> {
  readonly path: string;
  readonly clock: Clock;
  readonly log: Log;
  readonly state: StateHandle<S>;
  /** Declares this actor failed (its connection is gone, say): the supervisor restarts it. */
  fail(error: unknown): void;
  /** Ends this actor normally (it is idle and has nothing to keep). */
  stop(): void;
}

/**
 * A message reachable from outside the node's own code (the API, the shell, another node): its payload as it must
 * arrive, parsed where it enters, and the scope a caller needs. A message type not in its kind's table cannot be
 * sent from outside at all, whatever handlers the behaviour has.
 */
export interface PublicMessage<Req = unknown> {
  payload: z.ZodType<Req>;
  scope: MessageScope;
  summary: string;
}

/** One entry per public message of `P`, with the scope the protocol names: no more, no fewer. */
export type PublicMessages<P extends Protocol> = {
  readonly [K in PublicKeys<P>]: PublicMessage<P[K]['request']> & { scope: P[K]['scope'] };
};

export interface ActorKind<P extends Protocol = Protocol, A = unknown, S = never> {
  readonly kind: string;
  /** Absolute path of the module defining the kind, and the export holding it. */
  readonly module: string;
  readonly exportName: string;
  /** Present when the actor owns state: the key it is saved under. */
  readonly stateKey?: (args: A) => string;
  create(args: A, ctx: ActorContext<S>): Behavior<P> | Promise<Behavior<P>>;
}

/** Any actor kind (for code that hosts kinds without knowing their types). */
export type AnyActorKind = ActorKind<Record<string, { request: never; reply: unknown }>, never, never>;

/** Runs a kind's factory with arguments that were typed where the child spec was built. */
export function createBehavior(
  kind: AnyActorKind,
  args: unknown,
  ctx: ActorContext<unknown>,
): Behavior<Protocol> | Promise<Behavior<Protocol>> {
  return kind.create(args as never, ctx as never) as Behavior<Protocol> | Promise<Behavior<Protocol>>;
}

/** The key a kind's state is saved under for these arguments, if it owns state. */
export function stateKeyOf(kind: AnyActorKind, args: unknown): string | undefined {
  return (kind.stateKey as ((a: unknown) => string) | undefined)?.(args);
}

export type ProtocolOf<K> = K extends ActorKind<infer P, infer _A, infer _S> ? P : never;
export type ArgsOf<K> = K extends ActorKind<infer _P, infer A, infer _S> ? A : never;

export interface KindDefinition<P extends Protocol, A, S> {
  kind: string;
  /** `import.meta.url` of the defining module. */
  moduleUrl: string;
  exportName: string;
  stateKey?: (args: A) => string;
  /** Its public messages (an empty table: the actor is reached by the node's own code only). */
  messages: PublicMessages<P>;
  create(args: A, ctx: ActorContext<S>): Behavior<P> | Promise<Behavior<P>>;
}

const publicTables = new Map<string, ReadonlyMap<string, PublicMessage>>();

/** The public messages of an actor kind, by kind name (empty for a kind with none, or one never defined here). */
export function publicMessages(kind: string): ReadonlyMap<string, PublicMessage> {
  return publicTables.get(kind) ?? EMPTY;
}
const EMPTY: ReadonlyMap<string, PublicMessage> = new Map();

/** Every kind defined in this process with public messages, and its table (for the OpenAPI document). */
export function allPublicMessages(): [kind: string, messages: ReadonlyMap<string, PublicMessage>][] {
  return [...publicTables].filter(([, m]) => m.size > 0);
}

export function defineActor<P extends Protocol, A = undefined, S = never>(
  def: KindDefinition<P, A, S>,
): ActorKind<P, A, S> {
  publicTables.set(def.kind, new Map<string, PublicMessage>(Object.entries(def.messages)));
  return {
    kind: def.kind,
    module: fileURLToPath(def.moduleUrl),
    exportName: def.exportName,
    stateKey: def.stateKey,
    create: (args, ctx) => def.create(args, ctx),
  };
}

/** Internal messages every actor answers; user protocols never use the `__` prefix. */
export const PING = '__ping';
/** Stops the behaviour (it answers its waiting requests) before the actor is destroyed. */
export const SHUTDOWN = '__shutdown';
