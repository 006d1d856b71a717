import childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import comedy from 'comedy';
import type { ActorMode } from '../supervision/events.ts';
import type { SerializedError } from '../errors.ts';
import { isCallerError, rehydrateError, serializeError } from '../errors.ts';
import type { Log } from '../log/log.ts';
import type { AnyActorKind } from './kind.ts';
import type { CellInit, Upcalls } from './remote-cell.ts';
import { RemoteCell } from './remote-cell.ts';

/**
 * The one module that touches comedy (whose API is untyped). It creates forked and threaded comedy actors, hosts
 * our {@link RemoteCell} inside them, and papers over comedy's weak spots (in-memory actors are our own
 * {@link LocalActor}s: a comedy actor per domain or mutex cost kilobytes each):
 * - its SIGINT/SIGTERM handlers call process.exit(0) — removed, the node handles signals itself;
 * - it never notices a dead worker thread (pending requests hang) — exits are watched here and reported;
 * - a destroyed threaded actor keeps its worker (and the process) alive — terminated here;
 * - forked/threaded parents keep a 1 s interval, a bus entry and an exit listener forever — released here;
 * - errors cross processes as bare message strings — our errors travel encoded inside that string;
 * - `onCrash: respawn` restarts only forked actors, once, without limits — never used: supervisors restart;
 * - a forked actor costs a fresh Node process loading comedy (≈0.6 s here) — spare ones are kept ready;
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

/** The modes comedy hosts for us. */
export type ProcessMode = Exclude<ActorMode, 'in-memory'>;

/** A live comedy actor hosting one cell in a forked process or a worker thread. */
export interface ComedyActor {
  readonly mode: ProcessMode;
  /** OS process id for forked actors; thread id for threaded ones. */
  readonly pid?: number;
  readonly threadId?: number;
  /** `timeoutMs` bounds a handler that answers with a promise; the actor's cell enforces it. */
  ask(type: string, payload: unknown, timeoutMs: number): PromiseLike<unknown>;
  /** Called once if the actor's process or thread ends. */
  onExit(listener: (info: ExitInfo) => void): void;
  /** comedy's graceful destroy (the host's destroy hook runs). */
  destroy(): Promise<void>;
  /** Ends the process or thread at once and releases comedy's bookkeeping. */
  kill(): void;
}

export interface SpawnOptions {
  mode: ProcessMode;
  kind: AnyActorKind;
  init: CellInit;
  upcalls: Upcalls;
}

interface HostParams {
  init: CellInit & { kindModule: string; exportName: string };
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
  private cell: RemoteCell | undefined;

  async initialize(self: any): Promise<void> {
    const params = self.getCustomParameters() as HostParams;
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
      this.cell = await RemoteCell.create(kind, params.init, upcalls);
    } catch (err) {
      throw encodeError(err);
    }
  }

  m(type: string, payload: unknown, timeoutMs: number): unknown {
    const cell = this.cell as RemoteCell;
    try {
      const r = cell.handle(type, payload, timeoutMs);
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

/** Spare processes kept ready for forked actors: enough for two crashes close together. */
const SPARES = 2;

/**
 * Forked comedy worker processes started ahead of need. comedy forks its worker module itself, so the node's
 * `child_process.fork` is wrapped: a fork of exactly that module is handed a spare when there is one; every other
 * fork goes through untouched. A spare has already loaded comedy, tsx and our host, so a forked actor (and a
 * restart of one) starts in milliseconds instead of the ≈0.6 s a fresh process takes.
 *
 * {@link SPARES} are kept, and a taken one is replaced at once: with a single spare, a second crash within a second
 * of the first found the replacement still booting (restart p99 731 ms, against ≈30 ms with a spare ready).
 */
class SparePool {
  /** Oldest first: the one most likely to have finished booting is handed out first. */
  private readonly spares: ChildProcess[] = [];
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
    for (const s of this.spares.splice(0)) s.kill('SIGKILL');
  }

  private take(): ChildProcess | undefined {
    let s: ChildProcess | undefined;
    while ((s = this.spares.shift()) !== undefined) {
      if (s.exitCode === null && s.signalCode === null && s.connected) break;
    }
    // The replacement starts after this fork returns, not inside it.
    if (this.enabled) setImmediate(() => this.refill());
    if (s === undefined) return undefined;
    s.ref();
    (s.channel as { ref?: () => void } | undefined)?.ref?.();
    return s;
  }

  private refill(): void {
    while (this.enabled && this.spares.length < SPARES) {
      const s = this.originalFork(COMEDY_FORK_WORKER, ['mware-spare'], {
        execArgv: [...process.execArgv, '--require', SPARE_PRELOAD],
      });
      // A spare never keeps the node alive, and is forgotten if it dies unused.
      s.unref();
      (s.channel as { unref?: () => void } | undefined)?.unref?.();
      s.once('exit', () => {
        const i = this.spares.indexOf(s);
        if (i >= 0) this.spares.splice(i, 1);
      });
      this.spares.push(s);
    }
  }
}

const spares = new SparePool();

class ProcessActor implements ComedyActor {
  readonly pid?: number;
  readonly threadId?: number;
  private readonly wrapped: any;
  private exitListeners: ((info: ExitInfo) => void)[] = [];
  private exitInfo: ExitInfo | undefined;
  private lastError: SerializedError | undefined;

  constructor(
    readonly mode: ProcessMode,
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
