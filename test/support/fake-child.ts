import { ManualClock } from '../../src/supervision/clock.ts';
import { Directory } from '../../src/supervision/directory.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';
import { EventStream } from '../../src/supervision/events.ts';
import type { ExitReason, Incarnation, IncarnationObserver } from '../../src/supervision/incarnation.ts';
import type { ChildSpec, RestartType, RuntimeEnv, Shutdown } from '../../src/supervision/spec.ts';
import { silentLogger } from '../../src/log/log.ts';

/**
 * A scripted child for testing the supervision engine alone: tests make it crash, exit, or answer, and every
 * start and stop goes to a shared timeline so ordering rules can be checked.
 */

export interface World {
  clock: ManualClock;
  env: RuntimeEnv;
  events: InspectionEvent[];
  timeline: string[];
  /** The live incarnation of each child id. */
  live: Map<string, FakeChild>;
  /** Number of starts per id. */
  starts: Map<string, number>;
}

export function world(): World {
  const clock = new ManualClock();
  const events: InspectionEvent[] = [];
  const stream = new EventStream();
  stream.subscribe((e) => events.push(e));
  const env: RuntimeEnv = {
    clock,
    random: () => 0.5,
    events: stream,
    directory: new Directory(clock),
    log: silentLogger(),
  };
  return { clock, env, events, timeline: [], live: new Map(), starts: new Map() };
}

export class FakeChild implements Incarnation {
  /** Settles once, when this incarnation is over. */
  readonly exited: Promise<ExitReason>;
  readonly received: { type: string; payload: unknown }[] = [];
  /** The shutdown its supervisor gave it, once asked to stop. */
  stoppedWith: Shutdown | undefined;
  private resolveExit!: (r: ExitReason) => void;
  private over = false;
  private stopCutShort: (() => void) | undefined;
  private observer: IncarnationObserver | undefined;

  constructor(
    private readonly w: World,
    readonly id: string,
    private readonly opts: FakeOptions,
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  get ending(): boolean {
    return this.over;
  }

  mailbox(): number {
    return 0;
  }

  async deliver(type: string, payload: unknown): Promise<unknown> {
    if (this.over) throw new Error(`${this.id} is over`);
    this.received.push({ type, payload });
    if (this.opts.onMessage) return this.opts.onMessage(type, payload, this);
    return { from: this.id, generation: this.w.starts.get(this.id), type, payload };
  }

  crash(message = 'crashed'): void {
    this.end({ kind: 'failed', error: { name: 'Error', code: 'MW_ERR_INTERNAL', message } });
  }

  exitNormally(): void {
    this.end({ kind: 'normal' });
  }

  watch(observer: IncarnationObserver): void {
    this.observer = observer;
    void this.exited.then((r) => observer.exited(this, r));
  }

  /** Starts ending by itself, as an idle actor does: its supervisor hears of it before the exit. */
  windDown(): void {
    this.observer?.windingDown(this);
  }

  async stop(shutdown: Shutdown): Promise<void> {
    this.w.timeline.push(`stop:${this.id}`);
    this.stoppedWith = shutdown;
    const ms = this.opts.stopMs ?? 0;
    if (ms > 0 && !this.over)
      await new Promise<void>((resolve) => {
        this.stopCutShort = resolve;
        if (ms !== Infinity) this.w.clock.setTimeout(resolve, ms);
      });
    this.end({ kind: 'shutdown' });
  }

  kill(): void {
    this.w.timeline.push(`kill:${this.id}`);
    this.end({ kind: 'shutdown' });
    this.stopCutShort?.();
  }

  private end(r: ExitReason): void {
    if (this.over) return;
    this.over = true;
    if (this.w.live.get(this.id) === this) this.w.live.delete(this.id);
    const lag = this.opts.exitLagMs ?? 0;
    if (lag > 0) this.w.clock.setTimeout(() => this.resolveExit(r), lag);
    else this.resolveExit(r);
  }
}

export interface FakeOptions {
  restart?: RestartType;
  /** Milliseconds (of the manual clock) a start takes. */
  startMs?: number;
  /** Milliseconds (of the manual clock) a graceful stop takes; `Infinity`: it never ends unless killed. */
  stopMs?: number;
  /** Milliseconds (of the manual clock) between its end and the report of its exit (a late exit notice). */
  exitLagMs?: number;
  /** The spec's shutdown (default 1000 ms). */
  shutdown?: Shutdown;
  /** Makes the n-th start (1-based) fail, or every start with `true`. */
  failStart?: boolean | ((n: number) => boolean);
  onMessage?: (type: string, payload: unknown, child: FakeChild) => unknown;
  significant?: boolean;
  reviveOnMessage?: boolean;
  buffer?: { max?: number; maxWaitMs?: number };
}

export function fakeSpec(w: World, id: string, opts: FakeOptions = {}): ChildSpec {
  return {
    id,
    kind: 'fake',
    mode: 'in-memory',
    restart: opts.restart ?? 'permanent',
    shutdown: opts.shutdown ?? 1000,
    significant: opts.significant,
    reviveOnMessage: opts.reviveOnMessage,
    buffer: opts.buffer,
    start: async () => {
      const n = (w.starts.get(id) ?? 0) + 1;
      w.starts.set(id, n);
      w.timeline.push(`begin:${id}`);
      if (opts.startMs) await new Promise<void>((r) => w.clock.setTimeout(r, opts.startMs as number));
      const fail = typeof opts.failStart === 'function' ? opts.failStart(n) : opts.failStart === true;
      if (fail) {
        w.timeline.push(`fail-start:${id}`);
        throw new Error(`${id} cannot start (attempt ${n})`);
      }
      const child = new FakeChild(w, id, opts);
      w.live.set(id, child);
      w.timeline.push(`start:${id}`);
      return child;
    },
  };
}

/** The live incarnation of `id`, failing the test if there is none. */
export function liveChild(w: World, id: string): FakeChild {
  const c = w.live.get(id);
  if (!c) throw new Error(`${id} has no live incarnation (timeline: ${w.timeline.join(' ')})`);
  return c;
}
