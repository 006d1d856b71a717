import type { Clock, TimerHandle } from '../../supervisors/clock.ts';
import type { SerializedError } from '../errors.ts';
import { isCallerError, rehydrateError, serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import { ActorCrashed, ActorUnavailable, AskTimeout, UnknownMessage } from './errors.ts';
import type { ActorContext, AnyActorKind, Behavior, Protocol } from './kind.ts';
import { createBehavior, PING, SHUTDOWN } from './kind.ts';

/**
 * The part of an actor that runs where the actor runs (in the node's process, a forked process or a worker
 * thread): it builds the behaviour, dispatches messages to handlers, and tells a caller's mistake apart from the
 * actor's own failure. Calls back to its incarnation in the node through {@link Upcalls}.
 *
 * A handler that answers synchronously cannot hang, so it costs nothing extra. A handler that answers with a
 * promise is tracked until it settles: it fails at its deadline, and with the actor if the actor fails or stops.
 */

export interface CellInit {
  path: string;
  args: unknown;
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
}

export interface CellEnv {
  clock: Clock;
  /** The actor's logger, built on first use. */
  log: () => Log;
}

interface InFlight {
  reject(e: unknown): void;
  /** Monotonic ms after which the request fails. */
  deadline: number;
  type: string;
}

/** How often asynchronous requests are checked against their deadlines (one timer per cell, not per request). */
const SWEEP_MS = 100;

export class Cell {
  private failed: SerializedError | undefined;
  private stopped = false;
  private readonly inFlight = new Set<InFlight>();
  private sweepTimer: TimerHandle | undefined;

  private constructor(
    private readonly path: string,
    private readonly behavior: Behavior<Protocol>,
    private readonly upcalls: Upcalls,
    private readonly clock: Clock,
  ) {}

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
      state: { restored: init.restored, save: (v) => upcalls.save(v), durable: init.durable ?? false },
      fail: (error) => (box.cell ? box.cell.declareFailed(error) : upcalls.fail(serializeError(error))),
      stop: () => upcalls.stop(),
    };
    const behavior = await createBehavior(kind, init.args, ctx);
    box.cell = new Cell(init.path, behavior, upcalls, env.clock);
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
    const handler = this.behavior.handlers[type];
    if (handler === undefined)
      throw new UnknownMessage(`${this.path} has no handler for message type "${type}"`);
    let result: unknown;
    try {
      result = handler(payload);
    } catch (err) {
      throw this.classify(err);
    }
    // A handler that declared its actor failed does not get to answer: its request fails with the actor.
    if (this.failed) throw this.crashed();
    return result instanceof Promise ? this.track(result, type, timeoutMs) : result;
  }

  /** Stops the behaviour once (it answers its waiting requests); whatever is still unanswered fails. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.behavior.stop?.();
    } finally {
      this.failInFlight(new ActorUnavailable(`${this.path} stopped before answering`));
    }
  }

  private track(result: Promise<unknown>, type: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const entry: InFlight = { reject, deadline: this.clock.now() + timeoutMs, type };
      this.inFlight.add(entry);
      if (this.sweepTimer === undefined)
        this.sweepTimer = this.clock.setTimeout(() => this.sweep(), SWEEP_MS);
      result.then(
        (v) => {
          if (this.inFlight.delete(entry)) resolve(v);
        },
        (err: unknown) => {
          const e = this.classify(err);
          if (this.inFlight.delete(entry)) reject(e);
        },
      );
    });
  }

  private sweep(): void {
    this.sweepTimer = undefined;
    const now = this.clock.now();
    for (const entry of this.inFlight) {
      if (entry.deadline <= now) {
        this.inFlight.delete(entry);
        entry.reject(new AskTimeout(`${this.path}: no reply to "${entry.type}" in time`));
      }
    }
    if (this.inFlight.size > 0) this.sweepTimer = this.clock.setTimeout(() => this.sweep(), SWEEP_MS);
  }

  private failInFlight(error: Error): void {
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const entry of this.inFlight) entry.reject(error);
    this.inFlight.clear();
  }

  /** A caller's mistake is passed on as it is; anything else fails the actor and is reported as its crash. */
  private classify(err: unknown): unknown {
    if (isCallerError(err)) return err;
    this.declareFailed(err);
    return this.crashed();
  }

  private crashed(): ActorCrashed {
    const failed = this.failed as SerializedError;
    return new ActorCrashed(`${this.path} crashed: ${failed.message}`, { cause: rehydrateError(failed) });
  }

  private declareFailed(err: unknown): void {
    if (this.failed) return;
    this.failed = serializeError(err);
    // Error objects (with their stacks) are built only when someone is waiting for one.
    if (this.inFlight.size > 0) this.failInFlight(this.crashed());
    this.upcalls.fail(this.failed);
  }
}
