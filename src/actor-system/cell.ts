import type { Clock } from '../supervision/clock.ts';
import type { SerializedError } from '../errors.ts';
import { isCallerError, serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import { ActorCrashed, crashError, UnknownMessage } from './errors.ts';
import { InFlight } from './in-flight.ts';
import type { ActorContext, AnyActorKind, Behavior, Protocol } from './kind.ts';
import { createBehavior, PING, SHUTDOWN } from './kind.ts';

/**
 * The part of an actor that runs where the actor runs (in the node's process, a forked process or a worker
 * thread): it builds the behaviour, dispatches messages to handlers, and tells a caller's mistake apart from the
 * actor's own failure. Calls back to its incarnation in the node through {@link Upcalls}.
 *
 * A handler that answers synchronously cannot hang, so it costs nothing extra. A handler that answers with a
 * promise is tracked until it settles: it fails at its deadline or with the actor, and a graceful stop waits for it.
 */

export interface CellInit {
  path: string;
  args: unknown;
  /** The node's log level, so an actor in another process or thread does not even send what would be dropped. */
  logLevel?: string;
  /** State saved by a previous incarnation, loaded by the node before the actor was started. */
  restored?: unknown;
  /** Whether saves resolve only once durable (`state_mode: transactional`). */
  durable?: boolean;
}

/** What a cell asks of the node that supervises it. */
export interface Upcalls {
  fail(error: SerializedError): void;
  stop(): void;
  save(value: unknown): Promise<void>;
  clear(): Promise<void>;
  /** A log line (pino JSON) of an actor running in another process or thread, for the node's own logger. */
  log(line: string): void;
}

export interface CellEnv {
  clock: Clock;
  /** The actor's logger, built on first use. */
  log: () => Log;
  /** Whether the cell enforces deadlines; a remote cell's incarnation in the node does it already. */
  deadlines?: boolean;
}

export class Cell {
  private failed: SerializedError | undefined;
  private stopped = false;
  private readonly inFlight: InFlight;

  private constructor(
    private readonly path: string,
    private readonly behavior: Behavior<Protocol>,
    private readonly upcalls: Upcalls,
    env: CellEnv,
  ) {
    this.inFlight = new InFlight(path, env.clock, env.deadlines ?? true);
  }

  /** Runs the kind's factory (the actor's initialisation); an exception here is a start failure. */
  static async create(kind: AnyActorKind, init: CellInit, upcalls: Upcalls, env: CellEnv): Promise<Cell> {
    // The context exists before the cell does (the factory receives it), so it reaches the cell through a box.
    const box: { cell?: Cell } = {};
    const ctx: ActorContext<unknown> = {
      path: init.path,
      clock: env.clock,
      get log() {
        return env.log();
      },
      state: {
        restored: init.restored,
        save: (v) => upcalls.save(v),
        clear: () => upcalls.clear(),
        durable: init.durable ?? false,
      },
      fail: (error) => (box.cell ? box.cell.declareFailed(error) : upcalls.fail(serializeError(error))),
      stop: () => upcalls.stop(),
    };
    const behavior = await createBehavior(kind, init.args, ctx);
    box.cell = new Cell(init.path, behavior, upcalls, env);
    return box.cell;
  }

  /** Requests answered asynchronously and not yet settled. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Handles one message. A {@link CallerError} is answered and the actor goes on; anything else escaping a handler
   * is the actor's failure: the caller gets the error and the supervisor is told.
   */
  receive(type: string, payload: unknown, timeoutMs: number): unknown {
    if (type === PING) return 'pong';
    if (type === SHUTDOWN) return this.shutdown();
    if (this.failed) throw new ActorCrashed(`${this.path} has failed and is being restarted`);
    // Own handlers only: a type such as "constructor" or "hasOwnProperty" must not reach Object's methods.
    const handler = Object.hasOwn(this.behavior.handlers, type) ? this.behavior.handlers[type] : undefined;
    if (typeof handler !== 'function')
      throw new UnknownMessage(`${this.path} has no handler for message type "${type}"`);
    let result: unknown;
    try {
      result = handler(payload);
    } catch (err) {
      throw this.classify(err);
    }
    // A handler that declared its actor failed does not get to answer: its request fails with the actor.
    if (this.failed) {
      if (result instanceof Promise) result.catch(() => undefined);
      throw this.crashed();
    }
    return result instanceof Promise
      ? this.inFlight.track(result, type, timeoutMs, (err) => this.classify(err))
      : result;
  }

  /**
   * Stops the behaviour once (it answers its waiting requests), then waits for the requests still being handled:
   * a graceful stop loses no answer. The supervisor's shutdown time bounds the wait; past it the actor is killed
   * and {@link abort} fails what is left.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.behavior.stop?.();
    } finally {
      await this.inFlight.drained();
    }
  }

  /** Fails every request still unanswered (the actor was killed). */
  abort(error: Error): void {
    this.inFlight.failAll(error);
  }

  /** A caller's mistake is passed on as it is; anything else fails the actor and is reported as its crash. */
  private classify(err: unknown): unknown {
    if (isCallerError(err)) return err;
    this.declareFailed(err);
    return this.crashed();
  }

  private crashed(): ActorCrashed {
    return crashError(this.path, this.failed as SerializedError);
  }

  private declareFailed(err: unknown): void {
    if (this.failed) return;
    this.failed = serializeError(err);
    // Error objects (with their stacks) are built only when someone is waiting for one.
    if (this.inFlight.size > 0) this.inFlight.failAll(this.crashed());
    this.upcalls.fail(this.failed);
  }
}
