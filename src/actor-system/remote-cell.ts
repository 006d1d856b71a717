import type { Clock } from '../supervision/clock.ts';
import { systemClock } from '../supervision/clock.ts';
import type { SerializedError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import { createLogger } from '../log/log.ts';
import { Cell, CellContext } from './cell.ts';
import type { AnyActorKind } from './kind.ts';
import { createBehavior, PING, SHUTDOWN } from './kind.ts';

/**
 * The cell of a forked or threaded actor, in its own process or worker thread: it calls back to its incarnation in
 * the node through {@link Upcalls} (failure, stop, state, log lines).
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

/** What a remote cell asks of the node that supervises it. */
export interface Upcalls {
  fail(error: SerializedError): void;
  stop(): void;
  save(value: unknown): Promise<void>;
  clear(): Promise<void>;
  /** A log line (pino JSON) of the actor, for the node's own logger. */
  log(line: string): void;
}

export class RemoteCell extends Cell {
  private logger: Log | undefined;

  private constructor(
    private readonly init: CellInit,
    private readonly upcalls: Upcalls,
  ) {
    super(init.path);
  }

  /** Runs the kind's factory (the actor's initialisation); an exception here is a start failure. */
  static async create(kind: AnyActorKind, init: CellInit, upcalls: Upcalls): Promise<RemoteCell> {
    const cell = new RemoteCell(init, upcalls);
    cell.behavior = await createBehavior(kind, init.args, new CellContext(cell, init.restored));
    return cell;
  }

  /** A message from the node: its internal ones (liveness ping, graceful stop) or the actor's own. */
  handle(type: string, payload: unknown, timeoutMs: number): unknown {
    if (type === PING) return 'pong';
    if (type === SHUTDOWN) return this.shutdown();
    return this.receive(type, payload, timeoutMs);
  }

  get clock(): Clock {
    return systemClock;
  }

  // Lines go to the node, which writes them with its own logger: one destination, the node's and group's fields,
  // its secret scrubbing, and the shell's `logs` see them too.
  get log(): Log {
    return (this.logger ??= createLogger({
      level: this.init.logLevel ?? 'info',
      destination: { write: (line: string) => this.upcalls.log(line) },
    }));
  }

  get durable(): boolean {
    return this.init.durable ?? false;
  }

  save(value: unknown): Promise<void> {
    return this.upcalls.save(value);
  }

  clear(): Promise<void> {
    return this.upcalls.clear();
  }

  stopByItself(): void {
    this.upcalls.stop();
  }

  // Deadlines are the node's business (the incarnation tracks every request to a process that can die).
  protected get enforcesDeadlines(): boolean {
    return false;
  }

  protected reportFailure(error: SerializedError): void {
    this.upcalls.fail(error);
  }
}
