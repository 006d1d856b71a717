import type { SerializedError } from '../errors.ts';
import { ActorNotFound, ActorUnavailable, AskTimeout } from './errors.ts';
import { PendingBuffer } from './buffer.ts';
import type { ChildState } from './events.ts';
import type { ExitReason, Incarnation, IncarnationObserver } from './incarnation.ts';
import type { ChildSpec, RuntimeEnv } from './spec.ts';
import type { TreeNode } from './tree.ts';
import type { KindStats } from './stats.ts';
import { LATENCY_SAMPLE } from './stats.ts';
import type { Supervisor } from './supervisor.ts';

/** Keep this many restart timestamps per child for inspection. */
const RESTART_HISTORY = 10;

const NO_TIMES: readonly number[] = Object.freeze([]);

/**
 * A supervisor's record of one child: its spec, state, current incarnation, restart history, and the buffer that
 * holds messages while it (re)starts. The record outlives incarnations; its path is the child's address. It is the
 * observer of the child's incarnations, and passes their news to its supervisor.
 *
 * A node holds one record per actor, tens of thousands of them, most idle and never restarted: what only a
 * restart or a held message needs (the buffer, the restart times, state-change waiters) is allocated when first
 * needed.
 */
export class ChildRecord implements IncarnationObserver {
  state: ChildState = 'starting';
  incarnation: Incarnation | undefined;
  restarts = 0;
  lastError: SerializedError | undefined;
  /** Failures since the child last ran long enough to reset its backoff. */
  consecutiveFailures = 0;
  startedAt: number | undefined;
  startedAtWall: number | undefined;
  /** Set once the supervisor forgets this child; holders of the record look it up again. */
  removed = false;
  private buffer: PendingBuffer | undefined;
  private latestRestarts: number[] | undefined;
  private waiters: (() => void)[] | undefined;
  private readonly stats: KindStats | undefined;

  constructor(
    readonly path: string,
    readonly spec: ChildSpec,
    /** The supervisor that owns this child: restart, stop and start go through it. */
    readonly owner: Supervisor,
    private readonly env: RuntimeEnv,
  ) {
    this.stats = env.stats?.forKind(spec.kind);
  }

  get id(): string {
    return this.spec.id;
  }

  /** Messages held until the child (re)starts. */
  get held(): number {
    return this.buffer?.size ?? 0;
  }

  /** Wall-clock times of the latest restarts, newest last. */
  get restartTimes(): readonly number[] {
    return this.latestRestarts ?? NO_TIMES;
  }

  exited(inc: Incarnation, reason: ExitReason): void {
    this.owner.childExited(this, inc, reason);
  }

  windingDown(inc: Incarnation): void {
    if (this.incarnation === inc && this.state === 'running') this.setState('stopping');
  }

  setState(to: ChildState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.env.events.emit({ type: 'state-changed', path: this.path, from, to, at: this.env.clock.wallNow() });
    if (to === 'running') this.flush();
    else if (to === 'stopped' || to === 'failed') {
      const buffer = this.buffer;
      this.buffer = undefined;
      buffer?.failAll(() => new ActorUnavailable(`${this.path} is ${to}`));
    }
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) w();
  }

  /** Resolves at the next state change (or after `ms`). */
  nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.env.clock.setTimeout(resolve, ms);
      (this.waiters ??= []).push(() => {
        this.env.clock.clearTimeout(t);
        resolve();
      });
    });
  }

  /** Sends a message and waits for the reply. Held (bounded) while the child restarts; never hangs. */
  ask(type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const stats = this.stats;
    if (stats !== undefined && ++stats.messages % LATENCY_SAMPLE === 0)
      return this.timed(stats, type, payload, timeoutMs);
    const inc = this.incarnation;
    if (this.state === 'running' && inc?.deliver && inc.ending !== true)
      return inc.deliver(type, payload, timeoutMs);
    return this.askSlow(type, payload, timeoutMs);
  }

  /** One request in LATENCY_SAMPLE is timed for the latency histogram (kept bounded until scraped). */
  private timed(stats: KindStats, type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const t0 = performance.now();
    const inc = this.incarnation;
    const p =
      this.state === 'running' && inc?.deliver && inc.ending !== true
        ? inc.deliver(type, payload, timeoutMs)
        : this.askSlow(type, payload, timeoutMs);
    const done = () => {
      if (stats.latencies.length < 10_000) stats.latencies.push((performance.now() - t0) / 1000);
    };
    p.then(done, done);
    return p;
  }

  private askSlow(type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.spec.mode === 'supervisor') {
      return Promise.reject(new ActorNotFound(`${this.path} is a supervisor; it takes no messages`));
    }
    // A running child whose incarnation just ended is about to be restarted or stopped: hold until we know.
    const holds =
      this.state === 'starting' ||
      this.state === 'restarting' ||
      this.state === 'running' ||
      (this.state === 'stopping' && this.spec.reviveOnMessage === true);
    if (!holds) return Promise.reject(new ActorUnavailable(`${this.path} is ${this.state}`));
    const buffer = (this.buffer ??= this.newBuffer());
    const held = buffer.hold(type, payload, timeoutMs);
    return (
      held ??
      Promise.reject(
        new ActorUnavailable(`${this.path} is ${this.state} and its buffer is full (${buffer.size} held)`),
      )
    );
  }

  private newBuffer(): PendingBuffer {
    const spec = this.spec.buffer;
    const opts = spec ? { ...this.owner.flags.buffer, ...spec } : this.owner.flags.buffer;
    return new PendingBuffer(
      opts,
      this.env.clock,
      (m) =>
        new ActorUnavailable(
          `${this.path} did not become available within ${Math.round(m.deadline - m.heldAt)} ms (it is ${this.state})`,
        ),
    );
  }

  /** Delivers the held messages, oldest first, to the incarnation that just started. */
  private flush(): void {
    const inc = this.incarnation;
    const buffer = this.buffer;
    // An incarnation already ending keeps them held: its exit decides (a restart delivers them, a stop fails them).
    if (!inc?.deliver || inc.ending === true || buffer === undefined) return;
    this.buffer = undefined;
    const now = this.env.clock.now();
    for (const m of buffer.takeAll()) {
      // The reply deadline counts from when the message was sent, not from when it is delivered.
      const left = m.timeoutMs - (now - m.heldAt);
      if (left <= 0) m.reject(new AskTimeout(`${this.path}: no reply within ${m.timeoutMs} ms`));
      else
        inc.deliver(m.type, m.payload, left).then(
          (v) => m.resolve(v),
          (e: unknown) => m.reject(e),
        );
    }
  }

  snapshot(): TreeNode {
    const node: TreeNode = {
      path: this.path,
      id: this.spec.id,
      kind: this.spec.kind,
      mode: this.spec.mode,
      state: this.state,
      restarts: this.restarts,
      restartTimes: [...this.restartTimes],
      mailbox: (this.incarnation?.mailbox() ?? 0) + this.held,
    };
    // The actor's own report of its work failing comes first; else its last crash.
    const lastError = this.incarnation?.problem?.() ?? this.lastError;
    if (lastError) node.lastError = lastError;
    if (this.incarnation?.pid !== undefined) node.pid = this.incarnation.pid;
    if (this.startedAtWall !== undefined && this.incarnation) node.startedAt = this.startedAtWall;
    if (this.incarnation?.strategy) node.strategy = this.incarnation.strategy;
    const children = this.incarnation?.inspectChildren?.();
    if (children) node.children = children;
    return node;
  }

  noteRestart(): void {
    this.restarts++;
    const times = (this.latestRestarts ??= []);
    times.push(this.env.clock.wallNow());
    if (times.length > RESTART_HISTORY) times.shift();
  }
}
