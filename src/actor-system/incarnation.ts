import type { Clock, TimerHandle } from '../supervision/clock.ts';
import type { ExitReason, Incarnation, IncarnationObserver } from '../supervision/incarnation.ts';
import { reportExit } from '../supervision/incarnation.ts';
import type { Shutdown } from '../supervision/spec.ts';
import type { SerializedError } from '../errors.ts';
import { rehydrateError, serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import type { ComedyActor, ComedySystem, ExitInfo, ProcessMode } from './comedy.ts';
import {
  ActorProcessExited,
  ActorStartFailed,
  ActorUnavailable,
  AskTimeout,
  crashError,
  LivenessTimeout,
} from './errors.ts';
import { InFlight } from './in-flight.ts';
import { withDeadline } from '../supervision/deadline.ts';
import type { AnyActorKind } from './kind.ts';
import { PING, SHUTDOWN, stateKeyOf } from './kind.ts';
import type { Upcalls } from './remote-cell.ts';

/**
 * The node-side life of one forked or threaded actor (an in-memory one is a {@link LocalActor}): it delivers
 * messages (tracking each until its reply, its deadline, or the actor's end), notices failure in every form — an
 * exception reported by the cell, a dead process or thread, a missed liveness ping, the actor declaring itself
 * failed — and stops gracefully or by force.
 */

/** Where actor state is loaded from and saved to (per the role's state_mode). */
export interface StateAccess {
  load(key: string): Promise<unknown>;
  save(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys saved under a prefix (what a service restores at start). */
  keys(prefix: string): Promise<string[]>;
  /** Saves resolve only once durable (see {@link StateHandle.durable}). */
  readonly durable: boolean;
}

export interface LivenessOptions {
  intervalMs: number;
  timeoutMs: number;
}

export interface SpawnRequest {
  comedy: ComedySystem;
  state: StateAccess;
  kind: AnyActorKind;
  args: unknown;
  mode: ProcessMode;
  path: string;
  clock: Clock;
  /** The actor's logger, built on first use. */
  log: () => Log;
  liveness: LivenessOptions;
  startTimeoutMs: number;
}

export class ActorIncarnation implements Incarnation {
  private observer: IncarnationObserver | undefined;
  private exitReason: ExitReason | undefined;
  /** Set when a stop (ours or its own) is under way: the process ending is then expected. */
  private ended = false;
  /** Requests sent and not yet answered: the process or thread can die with them in flight. */
  private readonly pending: InFlight;
  private livenessTimer: TimerHandle | undefined;

  private constructor(
    private readonly path: string,
    private readonly actor: ComedyActor,
    private readonly clock: Clock,
    private readonly log: () => Log,
    private readonly liveness: LivenessOptions,
  ) {
    this.pending = new InFlight(path, clock);
    actor.onExit((info) => this.processExited(info));
    this.scheduleLiveness();
  }

  get ending(): boolean {
    return this.ended;
  }

  get pid(): number | undefined {
    return this.actor.pid;
  }

  /** Loads the actor's saved state, creates it in its mode, and returns its incarnation once initialised. */
  static async spawn(req: SpawnRequest): Promise<ActorIncarnation> {
    const stateKey = stateKeyOf(req.kind, req.args);
    const restored = stateKey !== undefined ? await req.state.load(stateKey) : undefined;
    // Upcalls may come during initialisation, before the incarnation exists; they reach it through a box.
    const box: { self?: ActorIncarnation; early?: SerializedError } = {};
    /** A write to the actor's state, while the state is still its own (a new incarnation may have it now). */
    const ownState = (write: (key: string) => Promise<void>): Promise<void> => {
      if (stateKey === undefined) return Promise.reject(new Error(`${req.path} declared no state`));
      if (box.self?.exitReason)
        return Promise.reject(new ActorUnavailable(`${req.path} has ended; its state is no longer its own`));
      return write(stateKey);
    };
    const upcalls: Upcalls = {
      fail: (e) => (box.self ? box.self.failed(e) : (box.early = e)),
      stop: () => void box.self?.stopByItself(),
      save: (value) => ownState((key) => req.state.save(key, value)),
      clear: () => ownState((key) => req.state.delete(key)),
      log: (line) => relayLog(req.log(), line),
    };
    const actor = await withDeadline(
      req.comedy.spawn({
        mode: req.mode,
        kind: req.kind,
        init: {
          path: req.path,
          args: req.args,
          restored,
          durable: req.state.durable,
          logLevel: req.log().level,
        },
        upcalls,
      }),
      req.startTimeoutMs,
      req.clock,
      () => new ActorStartFailed(`${req.path} did not start within ${req.startTimeoutMs} ms`),
    ).catch((err: unknown) => {
      throw err instanceof ActorStartFailed
        ? err
        : new ActorStartFailed(`${req.path} failed to start: ${(err as Error).message}`, { cause: err });
    });
    const self = new ActorIncarnation(req.path, actor, req.clock, req.log, req.liveness);
    box.self = self;
    if (box.early) self.failed(box.early);
    return self;
  }

  mailbox(): number {
    return this.pending.size;
  }

  watch(observer: IncarnationObserver): void {
    this.observer = observer;
    if (this.exitReason) reportExit(observer, this, this.exitReason);
  }

  deliver(type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.exitReason || this.ended)
      return Promise.reject(new ActorUnavailable(`${this.path} is stopping`));
    // A process or thread can die with requests in flight: each is tracked here until its reply or deadline.
    return this.pending.track(this.actor.ask(type, payload, timeoutMs), type, timeoutMs);
  }

  async stop(shutdown: Shutdown): Promise<void> {
    if (this.exitReason) return;
    if (shutdown === 'brutal_kill') return this.kill();
    await this.windDown(shutdown);
    this.finish({ kind: 'shutdown' });
  }

  kill(): void {
    if (this.exitReason) return;
    this.ended = true;
    this.actor.kill();
    this.finish({ kind: 'shutdown' });
  }

  /** The actor asked to end (it is idle): a graceful stop whose exit is `normal`. */
  private async stopByItself(): Promise<void> {
    if (this.exitReason || this.ended) return;
    this.observer?.windingDown(this);
    await this.windDown(5_000);
    this.finish({ kind: 'normal' });
  }

  /** Lets the behaviour stop (answering its waiting requests), then destroys the actor; forced past `shutdown`. */
  private async windDown(shutdown: number | 'infinity'): Promise<void> {
    this.ended = true;
    const graceful = (async () => {
      await this.actor.ask(SHUTDOWN, null, 0);
      await this.actor.destroy();
    })();
    try {
      if (shutdown === 'infinity') await graceful;
      else
        await withDeadline(
          graceful,
          shutdown,
          this.clock,
          () => new AskTimeout(`${this.path} did not stop within ${shutdown} ms`),
        );
    } catch (err) {
      this.log().warn({ err: serializeError(err) }, 'actor did not stop gracefully; killing it');
      this.actor.kill();
    }
  }

  /** The actor failed: its process is ended, requests in flight fail, the supervisor hears of it. */
  private failed(error: SerializedError): void {
    if (this.exitReason) return;
    this.ended = true;
    this.actor.kill();
    this.finish({ kind: 'failed', error });
  }

  private processExited(info: ExitInfo): void {
    if (this.exitReason || this.ended) return;
    const how = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
    const cause = info.error ? rehydrateError(info.error) : undefined;
    this.failed(
      serializeError(
        new ActorProcessExited(
          `${this.path}: ${this.actor.mode} actor's ${this.actor.mode === 'forked' ? 'process' : 'thread'} ${how}`,
          { cause },
        ),
      ),
    );
  }

  private finish(reason: ExitReason): void {
    if (this.exitReason) return;
    this.exitReason = reason;
    this.ended = true;
    if (this.livenessTimer !== undefined) this.clock.clearTimeout(this.livenessTimer);
    // Whatever is still unanswered now never will be (a graceful stop has waited for it). Error objects, with
    // their stacks, are built only when someone is waiting for one.
    if (this.pending.size > 0) {
      const error =
        reason.kind === 'failed'
          ? crashError(this.path, reason.error)
          : new ActorUnavailable(`${this.path} stopped before answering`);
      this.pending.failAll(error);
    }
    if (this.observer) reportExit(this.observer, this, reason);
  }

  /** A forked or threaded actor that stops answering (stalled, stuck in a loop) is a failed actor. */
  private scheduleLiveness(): void {
    this.livenessTimer = this.clock.setTimeout(() => {
      this.livenessTimer = undefined;
      if (this.exitReason || this.ended) return;
      withDeadline(
        Promise.resolve(this.actor.ask(PING, null, this.liveness.timeoutMs)),
        this.liveness.timeoutMs,
        this.clock,
        () =>
          new LivenessTimeout(
            `${this.path} did not answer a liveness ping within ${this.liveness.timeoutMs} ms`,
          ),
      ).then(
        () => this.scheduleLiveness(),
        (err: unknown) => {
          if (!this.ended) this.failed(serializeError(err));
        },
      );
    }, this.liveness.intervalMs);
  }
}

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * Writes a line logged by an actor in another process or thread through the node's logger (`log`, the actor's own,
 * with its path): the line's fields and message are kept, its process id as `actorPid`.
 */
function relayLog(log: Log, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    log.warn({ line: line.slice(0, 1_000) }, 'unreadable log line from an actor');
    return;
  }
  const { level, msg, time: _time, pid, hostname: _host, ...fields } = record;
  const method = LEVELS[typeof level === 'number' ? level : 30] ?? 'info';
  log[method]({ ...fields, actorPid: pid }, typeof msg === 'string' ? msg : '');
}
