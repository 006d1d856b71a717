import type { SerializedError } from '../errors.ts';
import { serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import type { Clock } from '../supervision/clock.ts';
import { withDeadline } from '../supervision/deadline.ts';
import type { ExitReason, Incarnation, IncarnationObserver } from '../supervision/incarnation.ts';
import { reportExit } from '../supervision/incarnation.ts';
import type { RuntimeEnv, Shutdown } from '../supervision/spec.ts';
import { Cell, CellContext } from './cell.ts';
import { ActorStartFailed, ActorUnavailable, AskTimeout, crashError } from './errors.ts';
import type { StateAccess } from './incarnation.ts';
import type { AnyActorKind, Behavior, Protocol } from './kind.ts';
import { createBehavior, stateKeyOf } from './kind.ts';

/**
 * An in-memory actor: its cell and its incarnation in one small object, hosted by mware itself in the node's
 * process. (comedy hosts forked and threaded actors; for an in-memory one it would add an actor, a proxy, a host
 * object and their bookkeeping — several kilobytes each, at tens of thousands of domains and mutexes.)
 *
 * Messages are handled one microtask after they are sent, as from a mailbox: a handler never runs inside its
 * sender's call, so an actor asking another that asks it back does not re-enter its own handler.
 */

/** What a local actor needs of its child spec: its kind, arguments, and the node's state store. */
export interface LocalActorSpec {
  readonly actor: AnyActorKind;
  readonly args: unknown;
  readonly runtime: { readonly state: StateAccess; readonly startTimeoutMs: number };
}

type Status = 'starting' | 'running' | 'stopping' | 'ended';

/** How long an actor that asked to end may take to stop gracefully. */
const SELF_STOP_MS = 5_000;
const RESOLVED = Promise.resolve();

export class LocalActor extends Cell implements Incarnation {
  private status: Status = 'starting';
  private exit: ExitReason | undefined;
  private observer: IncarnationObserver | undefined;
  private logger: Log | undefined;

  private constructor(
    path: string,
    private readonly spec: LocalActorSpec,
    private readonly env: RuntimeEnv,
  ) {
    super(path);
  }

  /**
   * Loads the actor's saved state and builds its behaviour. An exception in the kind's factory, or a factory that
   * does not finish within the runtime's start timeout, is a start failure.
   */
  static async start(spec: LocalActorSpec, path: string, env: RuntimeEnv): Promise<LocalActor> {
    const self = new LocalActor(path, spec, env);
    try {
      const key = stateKeyOf(spec.actor, spec.args);
      const restored = key !== undefined ? await spec.runtime.state.load(key) : undefined;
      const created = createBehavior(spec.actor, spec.args, new CellContext(self, restored));
      self.behavior = created instanceof Promise ? await self.awaitCreated(created) : created;
    } catch (err) {
      self.status = 'ended';
      throw err instanceof ActorStartFailed
        ? err
        : new ActorStartFailed(`${path} failed to start: ${(err as Error).message}`, { cause: err });
    }
    // It may have declared itself failed while it initialised: it starts, and its exit is reported at once.
    if (self.exit) self.stopBehavior();
    else self.status = 'running';
    return self;
  }

  private awaitCreated(created: Promise<Behavior<Protocol>>): Promise<Behavior<Protocol>> {
    const ms = this.spec.runtime.startTimeoutMs;
    return withDeadline(created, ms, this.env.clock, () => {
      // A behaviour that comes too late is stopped, so that its timers do not outlive the failed start.
      created.then((b) => void Promise.resolve(b.stop?.()).catch(() => undefined)).catch(() => undefined);
      return new ActorStartFailed(`${this.path} did not start within ${ms} ms`);
    });
  }

  // ------------------------------------------------------------------------------------------- as an incarnation

  get ending(): boolean {
    return this.status !== 'running';
  }

  watch(observer: IncarnationObserver): void {
    this.observer = observer;
    if (this.exit) reportExit(observer, this, this.exit);
  }

  mailbox(): number {
    return this.pending;
  }

  problem(): SerializedError | undefined {
    return this.status === 'running' ? this.behavior.problem?.() : undefined;
  }

  deliver(type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.status !== 'running') return Promise.reject(new ActorUnavailable(`${this.path} is stopping`));
    return RESOLVED.then(() => this.handle(type, payload, timeoutMs));
  }

  async stop(shutdown: Shutdown): Promise<void> {
    if (this.exit) return;
    if (shutdown === 'brutal_kill') return this.kill();
    await this.windDown(shutdown);
    this.end({ kind: 'shutdown' });
  }

  kill(): void {
    this.end({ kind: 'shutdown' });
  }

  // ------------------------------------------------------------------------------------------------ as a cell

  get clock(): Clock {
    return this.env.clock;
  }

  get log(): Log {
    return (this.logger ??= this.env.log.child({ path: this.path }));
  }

  get durable(): boolean {
    return this.spec.runtime.state.durable;
  }

  save(value: unknown): Promise<void> {
    const key = this.ownStateKey();
    return typeof key === 'string' ? this.spec.runtime.state.save(key, value) : Promise.reject(key);
  }

  clear(): Promise<void> {
    const key = this.ownStateKey();
    return typeof key === 'string' ? this.spec.runtime.state.delete(key) : Promise.reject(key);
  }

  /**
   * The actor asked to end (it is idle): a graceful stop whose exit is `normal`. Not before its supervisor has
   * taken it (a stop asked while it starts is dropped): a message it was started for must reach it first.
   */
  stopByItself(): void {
    if (this.status !== 'running' || this.observer === undefined) return;
    this.observer?.windingDown(this);
    void this.windDown(SELF_STOP_MS).then(() => this.end({ kind: 'normal' }));
  }

  protected get enforcesDeadlines(): boolean {
    return true;
  }

  protected reportFailure(error: SerializedError): void {
    this.end({ kind: 'failed', error });
  }

  // ------------------------------------------------------------------------------------------------ internals

  /** A message taken from the mailbox. One sent before a kill is not handled: the actor is over. */
  private handle(type: string, payload: unknown, timeoutMs: number): unknown {
    if (this.exit && !this.failed) throw new ActorUnavailable(`${this.path} stopped before answering`);
    return this.receive(type, payload, timeoutMs);
  }

  /** The key the actor's state is saved under, while the state is still its own (a new incarnation may have it). */
  private ownStateKey(): string | Error {
    const key = stateKeyOf(this.spec.actor, this.spec.args);
    if (key === undefined) return new Error(`${this.path} declared no state`);
    if (this.exit) return new ActorUnavailable(`${this.path} has ended; its state is no longer its own`);
    return key;
  }

  /**
   * Lets the behaviour stop (answering its waiting requests) after the messages already sent to it, and waits for
   * the requests it is still handling; past `shutdown`, gives up (the end fails what is left).
   */
  private async windDown(shutdown: number | 'infinity'): Promise<void> {
    this.status = 'stopping';
    const graceful = RESOLVED.then(() => this.shutdown());
    try {
      await withDeadline(
        graceful,
        shutdown,
        this.env.clock,
        () => new AskTimeout(`${this.path} did not stop within ${shutdown} ms`),
      );
    } catch (err) {
      this.log.warn({ err: serializeError(err) }, 'actor did not stop gracefully; killing it');
    }
  }

  /** The actor is over: what it has not answered fails, its behaviour stops, its supervisor hears of it. */
  private end(reason: ExitReason): void {
    if (this.exit) return;
    this.exit = reason;
    const starting = this.status === 'starting';
    this.status = 'ended';
    // Error objects, with their stacks, are built only when someone is waiting for one.
    if (this.pending > 0)
      this.abort(
        reason.kind === 'failed'
          ? crashError(this.path, reason.error)
          : new ActorUnavailable(`${this.path} stopped before answering`),
      );
    // An in-memory actor has no process to end: its behaviour is stopped so its timers and waiters end with it —
    // after the current turn, since the handler that failed it may still be running.
    if (!starting) void RESOLVED.then(() => this.stopBehavior());
    if (this.observer) reportExit(this.observer, this, reason);
  }
}
