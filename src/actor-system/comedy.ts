import childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import comedy from 'comedy';
import { systemClock } from '../supervision/clock.ts';
import type { ActorMode } from '../supervision/events.ts';
import type { SerializedError } from '../errors.ts';
import { isCallerError, rehydrateError, serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import { createLogger } from '../log/log.ts';
import type { CellEnv, CellInit, Upcalls } from './cell.ts';
import { Cell } from './cell.ts';
import type { AnyActorKind } from './kind.ts';

/**
 * The one module that touches comedy (whose API is untyped). It creates comedy actors in any mode, hosts our
 * {@link Cell} inside them, and papers over comedy's weak spots:
 * - its SIGINT/SIGTERM handlers call process.exit(0) — removed, the node handles signals itself;
 * - it never notices a dead worker thread (pending requests hang) — exits are watched here and reported;
 * - a destroyed threaded actor keeps its worker (and the process) alive — terminated here;
 * - forked/threaded parents keep a 1 s interval, a bus entry and an exit listener forever — released here;
 * - errors cross processes as bare message strings — our errors travel encoded inside that string;
 * - `onCrash: respawn` restarts only forked actors, once, without limits — never used: supervisors restart;
 * - a forked actor costs a fresh Node process loading comedy (≈0.6 s here) — a spare one is kept ready;
 * - its bluebird promises run every continuation through setImmediate, an event-loop turn (a syscall) per hop —
 *   scheduled as microtasks instead, as native promises are (request-reply throughput +30% here).
 */

// comedy's own copy of bluebird; this runs wherever comedy does (the node, forked processes, worker threads).
const bluebird = createRequire(createRequire(import.meta.url).resolve('comedy'))('bluebird');
bluebird.setScheduler((fn: () => void) => queueMicrotask(fn));

/**
 * On microtasks, bluebird looks for a rejection handler before an `await` on its promise has had its turn to
 * attach one, and would report a handled rejection as unhandled. Replies are marked as handled-later.
 */
function reply(p: any): PromiseLike<unknown> {
  p.suppressUnhandledRejections();
  return p;
}

const HOST_BOOT = join(dirname(fileURLToPath(import.meta.url)), 'host-boot.cjs');
const SPARE_PRELOAD = join(dirname(fileURLToPath(import.meta.url)), 'spare-preload.cjs');
const COMEDY_FORK_WORKER = createRequire(import.meta.url).resolve('comedy/lib/forked-actor-worker.js');
/** Marks an encoded {@link SerializedError} inside comedy's error text. */
const ERROR_MARK = '\u0000mware-error:';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  error?: SerializedError;
}

/** A live comedy actor hosting one cell. */
export interface ComedyActor {
  readonly mode: ActorMode;
  /** OS process id for forked actors; thread id for threaded ones. */
  readonly pid?: number;
  readonly threadId?: number;
  /** `timeoutMs` bounds a handler that answers with a promise; the actor's cell enforces it. */
  ask(type: string, payload: unknown, timeoutMs: number): PromiseLike<unknown>;
  /** Called once if the actor's process or thread ends. */
  onExit(listener: (info: ExitInfo) => void): void;
  /** Requests an in-memory actor has taken and not yet answered (its cell knows); 0 for other modes. */
  inFlight(): number;
  /** Fails the requests an in-memory actor has taken and not answered; a process's end fails its own. */
  abort(error: Error): void;
  /** comedy's graceful destroy (the host's destroy hook runs). */
  destroy(): Promise<void>;
  /** Ends the process or thread at once and releases comedy's bookkeeping. */
  kill(): void;
}

export interface SpawnOptions {
  mode: ActorMode;
  kind: AnyActorKind;
  init: CellInit;
  upcalls: Upcalls;
  /** In-memory actors share the node's clock and logger; others build their own. */
  env: CellEnv;
}

interface HostParams {
  init: CellInit & { kindModule: string; exportName: string };
  /** Present for in-memory actors only: passed by reference, never serialised. */
  local?: { kind: AnyActorKind; upcalls: Upcalls; env: CellEnv };
}

function encodeError(err: unknown): Error {
  return new Error(ERROR_MARK + JSON.stringify({ error: serializeError(err), caller: isCallerError(err) }));
}

function decodeError(err: unknown): unknown {
  const msg = (err as Error | undefined)?.message;
  if (typeof msg !== 'string' || !msg.startsWith(ERROR_MARK)) return err;
  const { error } = JSON.parse(msg.slice(ERROR_MARK.length)) as { error: SerializedError };
  return rehydrateError(error);
}

/**
 * The class comedy instantiates for every actor of ours, in whichever process or thread runs it.
 * In a forked process or worker thread it is loaded through host-boot.cjs.
 */
export class ComedyHost {
  private cell: Cell | undefined;
  private remote = false;

  async initialize(self: any): Promise<void> {
    const params = self.getCustomParameters() as HostParams;
    if (params.local) {
      this.cell = await Cell.create(params.local.kind, params.init, params.local.upcalls, params.local.env);
      return;
    }
    this.remote = true;
    try {
      const parent = self.getParent();
      const upcalls: Upcalls = {
        fail: (e) => void parent.sendAndReceive('fail', e).catch(() => undefined),
        stop: () => void parent.sendAndReceive('stop').catch(() => undefined),
        save: async (v) => {
          try {
            await parent.sendAndReceive('save', v);
          } catch (err) {
            throw decodeError(err);
          }
        },
        log: (line) => void parent.sendAndReceive('log', line).catch(() => undefined),
        clear: async () => {
          try {
            await parent.sendAndReceive('clear');
          } catch (err) {
            throw decodeError(err);
          }
        },
      };
      const required = createRequire(import.meta.url)(params.init.kindModule) as Record<string, unknown>;
      const kind = required[params.init.exportName] as AnyActorKind;
      // Lines go to the node, which writes them with its own logger: one destination, the node's and group's fields,
      // its secret scrubbing, and the shell's `logs` see them too.
      let log: Log | undefined;
      const lazyLog = () =>
        (log ??= createLogger({
          level: params.init.logLevel ?? 'info',
          destination: { write: (line: string) => upcalls.log(line) },
        }));
      // Deadlines are the node's business (the incarnation tracks every request to a process that can die).
      this.cell = await Cell.create(kind, params.init, upcalls, {
        clock: systemClock,
        log: lazyLog,
        deadlines: false,
      });
    } catch (err) {
      throw encodeError(err);
    }
  }

  m(type: string, payload: unknown, timeoutMs: number): unknown {
    const cell = this.cell as Cell;
    if (!this.remote) return cell.receive(type, payload, timeoutMs);
    try {
      const r = cell.receive(type, payload, timeoutMs);
      return r instanceof Promise
        ? r.catch((e: unknown) => {
            throw encodeError(e);
          })
        : r;
    } catch (err) {
      throw encodeError(err);
    }
  }

  async destroy(): Promise<void> {
    await this.cell?.shutdown();
  }

  get pending(): number {
    return this.cell?.pending ?? 0;
  }

  abort(error: Error): void {
    this.cell?.abort(error);
  }
}

/** Parent-side end of a forked or threaded actor: receives the cell's upcalls. */
class ComedyLink {
  private upcalls!: Upcalls;

  initialize(self: any): void {
    this.upcalls = (self.getCustomParameters() as { upcalls: Upcalls }).upcalls;
  }
  fail(e: SerializedError): void {
    this.upcalls.fail(e);
  }
  stop(): void {
    this.upcalls.stop();
  }
  save(v: unknown): Promise<void> {
    return this.upcalls.save(v).catch((err: unknown) => {
      throw encodeError(err);
    });
  }
  log(line: string): void {
    this.upcalls.log(line);
  }
  clear(): Promise<void> {
    return this.upcalls.clear().catch((err: unknown) => {
      throw encodeError(err);
    });
  }
}

export class ComedySystem {
  private readonly system: any;
  private readonly root: Promise<any>;

  private constructor(log: Log) {
    // `test: true` silences comedy's own logger and stops it reading and watching an actors.json file.
    this.system = comedy.createSystem({ test: true });
    // comedy exits the process on SIGINT/SIGTERM; the node's own shutdown must run instead.
    process.removeListener('SIGINT', this.system.sigintHandler);
    process.removeListener('SIGTERM', this.system.sigtermHandler);
    this.root = this.system.rootActor();
    this.root.catch((err: unknown) => log.error({ err }, 'comedy root actor failed'));
  }

  static create(log: Log): ComedySystem {
    return new ComedySystem(log);
  }

  async spawn(opts: SpawnOptions): Promise<ComedyActor> {
    const root = await this.root;
    const init = { ...opts.init, kindModule: opts.kind.module, exportName: opts.kind.exportName };
    const name = opts.init.path;
    if (opts.mode === 'in-memory') {
      const params: HostParams = { init, local: { kind: opts.kind, upcalls: opts.upcalls, env: opts.env } };
      const proxy = await this.create(ComedyHost, root, {
        mode: 'in-memory',
        name,
        customParameters: params,
      });
      return new InMemoryActor(proxy);
    }
    if (opts.mode === 'forked') spares.enable();
    // Actors are created through the system, not root.createChild: comedy would otherwise keep every child in an
    // array it scans linearly, and try to destroy crashed ones again at exit. Their lifecycle is ours.
    const link = await this.create(ComedyLink, root, {
      mode: 'in-memory',
      name: `${name}#link`,
      customParameters: { upcalls: opts.upcalls },
    });
    try {
      const params: HostParams = { init };
      const proxy = await this.create('/' + HOST_BOOT, link.getWrapped(), {
        mode: opts.mode,
        name,
        customParameters: params,
      });
      return new ProcessActor(opts.mode, proxy, link);
    } catch (err) {
      void link.destroy().catch(() => undefined);
      throw decodeError(err);
    }
  }

  private async create(definition: unknown, parent: any, config: Record<string, unknown>): Promise<any> {
    const proxy = await this.system.createActor(definition, parent, config);
    try {
      await proxy.initialize();
    } catch (err) {
      const wrapped = proxy.getWrapped();
      releaseComedyActor(this.system, wrapped);
      throw decodeError(err);
    }
    return proxy;
  }

  /** Destroys comedy's own root; our actors are stopped by their supervisors before this. */
  async destroy(): Promise<void> {
    spares.close();
    await this.system.destroy();
  }
}

/**
 * One forked comedy worker process started ahead of need. comedy forks its worker module itself, so the node's
 * `child_process.fork` is wrapped: a fork of exactly that module is handed the spare when one is ready; every
 * other fork goes through untouched. The spare has already loaded comedy, tsx and our host, so a forked actor
 * (and a restart of one) starts in milliseconds instead of the ≈0.6 s a fresh process takes.
 */
class SparePool {
  private spare: ChildProcess | undefined;
  private enabled = false;
  private readonly originalFork: typeof childProcess.fork;

  constructor() {
    this.originalFork = childProcess.fork;
    (childProcess as any).fork = (modulePath: string, ...rest: any[]): ChildProcess => {
      if (modulePath === COMEDY_FORK_WORKER) {
        const spare = this.take();
        if (spare) return spare;
      }
      return (this.originalFork as any).call(childProcess, modulePath, ...rest);
    };
  }

  enable(): void {
    this.enabled = true;
    this.refill();
  }

  close(): void {
    this.enabled = false;
    this.spare?.kill('SIGKILL');
    this.spare = undefined;
  }

  private take(): ChildProcess | undefined {
    const s = this.spare;
    this.spare = undefined;
    if (this.enabled) setImmediate(() => this.refill());
    if (!s || s.exitCode !== null || s.signalCode !== null || !s.connected) return undefined;
    s.ref();
    (s.channel as { ref?: () => void } | undefined)?.ref?.();
    return s;
  }

  private refill(): void {
    if (this.spare || !this.enabled) return;
    const s = this.originalFork(COMEDY_FORK_WORKER, ['mware-spare'], {
      execArgv: [...process.execArgv, '--require', SPARE_PRELOAD],
    });
    // A spare never keeps the node alive, and is forgotten if it dies unused.
    s.unref();
    (s.channel as { unref?: () => void } | undefined)?.unref?.();
    s.once('exit', () => {
      if (this.spare === s) this.spare = undefined;
    });
    this.spare = s;
  }
}

const spares = new SparePool();

class InMemoryActor implements ComedyActor {
  readonly mode = 'in-memory' as const;

  constructor(private readonly proxy: any) {}

  ask(type: string, payload: unknown, timeoutMs: number): PromiseLike<unknown> {
    return reply(this.proxy.sendAndReceive('m', type, payload, timeoutMs));
  }
  onExit(): void {
    // An in-memory actor has no process of its own to lose.
  }
  inFlight(): number {
    return this.host.pending;
  }
  abort(error: Error): void {
    this.host.abort(error);
  }
  private get host(): ComedyHost {
    return this.proxy.getWrapped().definition as ComedyHost;
  }
  async destroy(): Promise<void> {
    await this.proxy.destroy();
  }
  kill(): void {
    // Nothing to end: dropping the references lets it be collected.
  }
}

class ProcessActor implements ComedyActor {
  readonly pid?: number;
  readonly threadId?: number;
  private readonly wrapped: any;
  private exitListeners: ((info: ExitInfo) => void)[] = [];
  private exitInfo: ExitInfo | undefined;
  private lastError: SerializedError | undefined;

  constructor(
    readonly mode: ActorMode,
    private readonly proxy: any,
    private readonly link: any,
  ) {
    this.wrapped = proxy.getWrapped();
    const proc = this.wrapped.workerProcess;
    const worker = this.wrapped.worker;
    if (proc) {
      this.pid = proc.pid;
      proc.once('exit', (code: number | null, signal: string | null) => this.exited({ code, signal }));
    } else if (worker) {
      this.threadId = worker.threadId;
      worker.on('error', (err: unknown) => (this.lastError = serializeError(err)));
      worker.once('exit', (code: number) => this.exited({ code, signal: null }));
    } else {
      // comedy created no process: treat as already gone rather than hang.
      queueMicrotask(() => this.exited({ code: null, signal: null }));
    }
  }

  private exited(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = { ...info, error: this.lastError };
    releaseComedyActor(this.proxy.getWrapped().getSystem(), this.wrapped);
    void this.link.destroy().catch(() => undefined);
    for (const l of this.exitListeners) l(this.exitInfo);
    this.exitListeners = [];
  }

  ask(type: string, payload: unknown, timeoutMs: number): PromiseLike<unknown> {
    return reply(
      this.proxy.sendAndReceive('m', type, payload, timeoutMs).catch((err: unknown) => {
        throw decodeError(err);
      }),
    );
  }

  onExit(listener: (info: ExitInfo) => void): void {
    if (this.exitInfo) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }

  inFlight(): number {
    return 0;
  }

  abort(): void {
    // The incarnation tracks every request to a process or thread and fails them when it ends.
  }

  async destroy(): Promise<void> {
    if (this.exitInfo) return;
    await this.proxy.destroy();
    // comedy never terminates a threaded actor's worker, which would keep the process alive.
    if (this.mode === 'threaded') await this.wrapped.worker?.terminate();
  }

  kill(): void {
    if (this.exitInfo) return;
    if (this.mode === 'forked') this.wrapped.workerProcess?.kill('SIGKILL');
    else void this.wrapped.worker?.terminate();
  }
}

/** Drops comedy's per-actor timers, listeners and bus entry for an actor whose process is gone or being killed. */
function releaseComedyActor(system: any, wrapped: any): void {
  if (wrapped.timeoutWorkerInterval) clearInterval(wrapped.timeoutWorkerInterval);
  if (wrapped.exitHandler) process.removeListener('exit', wrapped.exitHandler);
  system?.bus?.removeForkedRecipient?.(wrapped);
}
