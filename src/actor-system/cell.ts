import type { Clock } from '../supervision/clock.ts';
import type { SerializedError } from '../errors.ts';
import { isCallerError, serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import type { ActorCrashed } from './errors.ts';
import { crashError, UnknownMessage } from './errors.ts';
import { InFlight } from './in-flight.ts';
import type { ActorContext, Behavior, Protocol, StateHandle } from './kind.ts';

/**
 * The part of an actor that runs where the actor runs: it holds the behaviour, dispatches messages to its
 * handlers, and tells a caller's mistake apart from the actor's own failure. Two kinds of cell:
 * {@link LocalActor} in the node's process (which is also the actor's incarnation), and {@link RemoteCell} in a
 * forked process or worker thread (which calls back to its incarnation in the node).
 *
 * A handler that answers synchronously cannot hang, so it costs nothing extra. A handler that answers with a
 * promise is tracked until it settles: it fails at its deadline or with the actor, and a graceful stop waits for it.
 */
export abstract class Cell {
  /** Built by the kind's factory right after the cell (the factory receives the cell's context). */
  protected behavior!: Behavior<Protocol>;
  private failure: SerializedError | undefined;
  private behaviorStopped = false;
  /** Requests answered asynchronously; made at the first such request (most actors answer at once). */
  private inFlight: InFlight | undefined;

  constructor(readonly path: string) {}

  abstract get clock(): Clock;
  /** The actor's logger, built on first use. */
  abstract get log(): Log;
  /** Whether a save resolves only once durable (`state_mode: transactional`). */
  abstract get durable(): boolean;
  abstract save(value: unknown): Promise<void>;
  abstract clear(): Promise<void>;
  /** The actor asked to end (it is idle). */
  abstract stopByItself(): void;
  /** Whether this cell fails requests at their deadlines; a remote cell's incarnation in the node does it already. */
  protected abstract get enforcesDeadlines(): boolean;
  /** The actor failed: tell whoever supervises it. */
  protected abstract reportFailure(error: SerializedError): void;

  /** Requests answered asynchronously and not yet settled. */
  get pending(): number {
    return this.inFlight?.size ?? 0;
  }

  /** Whether the actor has failed (it takes no more messages). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Handles one message. A {@link CallerError} is answered and the actor goes on; anything else escaping a handler
   * is the actor's failure: the caller gets the error and the supervisor is told.
   */
  receive(type: string, payload: unknown, timeoutMs: number): unknown {
    if (this.failure) throw this.crashed();
    const behavior = this.behavior;
    const handlers = behavior.handlers;
    // Own handlers only: a type such as "constructor" or "hasOwnProperty" must not reach Object's methods.
    const handler = Object.hasOwn(handlers, type) ? handlers[type] : undefined;
    if (typeof handler !== 'function')
      throw new UnknownMessage(`${this.path} has no handler for message type "${type}"`);
    let result: unknown;
    try {
      // A kind's class keeps one table of handlers for all its actors: each is called on its own behaviour.
      result = handler.call(behavior, payload as never);
    } catch (err) {
      throw this.classify(err);
    }
    // A handler that declared its actor failed does not get to answer: its request fails with the actor.
    if (this.failure) {
      if (result instanceof Promise) result.catch(() => undefined);
      throw this.crashed();
    }
    if (!(result instanceof Promise)) return result;
    const inFlight = (this.inFlight ??= new InFlight(this.path, this.clock, this.enforcesDeadlines));
    return inFlight.track(result, type, timeoutMs, (err) => this.classify(err));
  }

  /**
   * Stops the behaviour once (it answers its waiting requests), then waits for the requests still being handled:
   * a graceful stop loses no answer. The supervisor's shutdown time bounds the wait; past it the actor is killed
   * and {@link abort} fails what is left.
   */
  async shutdown(): Promise<void> {
    if (!this.behaviorStopped) {
      this.behaviorStopped = true;
      try {
        await this.behavior.stop?.();
      } finally {
        await this.inFlight?.drained();
      }
      return;
    }
    await this.inFlight?.drained();
  }

  /** Stops the behaviour, if not yet, without waiting for it (the actor is over: its timers and waiters end). */
  protected stopBehavior(): void {
    if (this.behaviorStopped || this.behavior === undefined) return;
    this.behaviorStopped = true;
    try {
      Promise.resolve(this.behavior.stop?.()).catch(() => undefined);
    } catch {
      // A behaviour that throws while stopping is stopped all the same.
    }
  }

  /** Fails every request still unanswered (the actor was killed). */
  abort(error: Error): void {
    this.inFlight?.failAll(error);
  }

  /** Fails the actor (an exception escaped a handler, or it declared itself failed). */
  declareFailed(err: unknown): void {
    if (this.failure) return;
    this.failure = serializeError(err);
    // Error objects (with their stacks) are built only when someone is waiting for one.
    if (this.pending > 0) this.abort(this.crashed());
    this.reportFailure(this.failure);
  }

  /** A caller's mistake is passed on as it is; anything else fails the actor and is reported as its crash. */
  private classify(err: unknown): unknown {
    if (isCallerError(err)) return err;
    this.declareFailed(err);
    return this.crashed();
  }

  private crashed(): ActorCrashed {
    return crashError(this.path, this.failure as SerializedError);
  }
}

/**
 * What the behaviour sees of its cell ({@link ActorContext}, and its state handle): one small object per actor
 * whose methods live on the prototype, instead of a closure per capability.
 */
export class CellContext implements ActorContext<unknown>, StateHandle<unknown> {
  constructor(
    private readonly cell: Cell,
    /** The state saved by a previous incarnation, loaded by the node before the actor was started. */
    readonly restored: unknown,
  ) {}

  get path(): string {
    return this.cell.path;
  }
  get clock(): Clock {
    return this.cell.clock;
  }
  get log(): Log {
    return this.cell.log;
  }
  get state(): StateHandle<unknown> {
    return this;
  }
  get durable(): boolean {
    return this.cell.durable;
  }
  save(value: unknown): Promise<void> {
    return this.cell.save(value);
  }
  clear(): Promise<void> {
    return this.cell.clear();
  }
  fail(error: unknown): void {
    this.cell.declareFailed(error);
  }
  stop(): void {
    this.cell.stopByItself();
  }
}
