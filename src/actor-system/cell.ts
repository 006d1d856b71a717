import type { Clock } from '../../supervisors/clock.ts';
import type { SerializedError } from '../errors.ts';
import { isCallerError, serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import { ActorCrashed, UnknownMessage } from './errors.ts';
import type { ActorContext, AnyActorKind, Behavior, Protocol } from './kind.ts';
import { createBehavior, PING, SHUTDOWN } from './kind.ts';

/**
 * The part of an actor that runs where the actor runs (in the node's process, a forked process or a worker
 * thread): it builds the behaviour, dispatches messages to handlers, and tells a caller's mistake apart from the
 * actor's own failure. Calls back to its incarnation in the node through {@link Upcalls}.
 */

export interface CellInit {
  path: string;
  args: unknown;
  /** State saved by a previous incarnation, loaded by the node before the actor was started. */
  restored?: unknown;
}

/** What a cell asks of the node that supervises it. */
export interface Upcalls {
  fail(error: SerializedError): void;
  stop(): void;
  save(value: unknown): Promise<void>;
}

export interface CellEnv {
  clock: Clock;
  log: Log;
}

export class Cell {
  private failed = false;
  private stopped = false;

  private constructor(
    private readonly path: string,
    private readonly behavior: Behavior<Protocol>,
    private readonly upcalls: Upcalls,
  ) {}

  /** Runs the kind's factory (the actor's initialisation); an exception here is a start failure. */
  static async create(kind: AnyActorKind, init: CellInit, upcalls: Upcalls, env: CellEnv): Promise<Cell> {
    // The context exists before the cell does (the factory receives it), so it reaches the cell through a box.
    const box: { cell?: Cell } = {};
    const ctx: ActorContext<unknown> = {
      path: init.path,
      clock: env.clock,
      log: env.log,
      state: { restored: init.restored, save: (v) => upcalls.save(v) },
      fail: (error) => (box.cell ? box.cell.declareFailed(error) : upcalls.fail(serializeError(error))),
      stop: () => upcalls.stop(),
    };
    const behavior = await createBehavior(kind, init.args, ctx);
    box.cell = new Cell(init.path, behavior, upcalls);
    return box.cell;
  }

  /**
   * Handles one message. A {@link CallerError} is answered and the actor goes on; anything else escaping a handler
   * is the actor's failure: the caller gets the error and the supervisor is told.
   */
  receive(type: string, payload: unknown): unknown {
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
    if (result instanceof Promise) {
      return result.catch((err: unknown) => {
        throw this.classify(err);
      });
    }
    return result;
  }

  /** Stops the behaviour once (answers its waiting requests, releases resources). */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.behavior.stop?.();
  }

  private classify(err: unknown): unknown {
    if (!isCallerError(err)) this.declareFailed(err);
    return err;
  }

  private declareFailed(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.upcalls.fail(serializeError(err));
  }
}
