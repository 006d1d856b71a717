import { ActorStartFailed } from './errors.ts';
import { rehydrateError, serializeError } from '../errors.ts';
import type { SerializedError } from '../errors.ts';
import { withDeadline } from './deadline.ts';
import { backoffDelay } from './backoff.ts';
import { ChildRecord } from './child.ts';
import type { TimerHandle } from './clock.ts';
import { childPath } from './directory.ts';
import { RestartIntensityExceeded, SupervisorFull, SupervisorOperationRefused } from './errors.ts';
import type { ExitReason, Incarnation, IncarnationObserver } from './incarnation.ts';
import { RestartWindow } from './intensity.ts';
import type { ChildSpec, RuntimeEnv, Shutdown, SupervisorFlags } from './spec.ts';
import type { TreeNode } from './tree.ts';

type SupervisorState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * A supervisor with Erlang/OTP semantics (02-runtime.md "Supervisors"):
 * - strategies one_for_one, one_for_all, rest_for_one and simple_one_for_one (dynamic children);
 * - permanent / transient / temporary children;
 * - at most `intensity` restarts in `periodMs`, beyond that it stops its children and fails (escalation);
 * - exponential backoff with jitter between consecutive restarts of one child;
 * - children start in order, each fully initialised before the next, and stop in reverse order within their
 *   shutdown timeouts;
 * - messages for a restarting child are held (bounded) and delivered to the new incarnation.
 * All decisions go through one queue, so a failure during a restart is handled after it, never interleaved.
 * A supervisor is itself an {@link Incarnation}, so supervisors nest.
 */
export class Supervisor implements Incarnation {
  readonly exited: Promise<ExitReason>;
  readonly strategy: string;
  private resolveExit!: (r: ExitReason) => void;
  private state: SupervisorState = 'starting';
  private readonly records: ChildRecord[] = [];
  private readonly byId = new Map<string, ChildRecord>();
  private readonly window: RestartWindow;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timers = new Set<TimerHandle>();
  /** Children whose stop we asked for: their exit is expected, not a failure. */
  private readonly stopping = new Set<ChildRecord>();
  private readonly pendingStarts = new Map<string, Promise<ChildRecord>>();
  /** Starts refused because the supervisor had `maxChildren` children. */
  private refusedFull = 0;

  constructor(
    readonly path: string,
    readonly flags: SupervisorFlags,
    private readonly initial: readonly ChildSpec[],
    private readonly env: RuntimeEnv,
  ) {
    this.strategy = flags.strategy;
    this.window = new RestartWindow(flags.intensity, flags.periodMs);
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** Starts the children in order. If one fails to start, those started are stopped and this rejects. */
  start(): Promise<this> {
    return this.run(() => this.startInitial());
  }

  private async startInitial(): Promise<this> {
    for (const spec of this.initial) {
      // A stop requested during start-up takes effect between children.
      if (this.state !== 'starting') break;
      const r = this.addRecord(spec);
      try {
        await this.launch(r);
      } catch (err) {
        r.lastError = serializeError(err);
        r.setState('failed');
        await this.stopChildren();
        this.finish('failed', { kind: 'failed', error: serializeError(err) });
        throw new ActorStartFailed(
          `${this.path}: child ${spec.id} failed to start: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    if (this.state === 'starting') this.state = 'running';
    return this;
  }

  // ------------------------------------------------------------------------------------------- public operations

  children(): readonly ChildRecord[] {
    return this.records;
  }

  child(id: string): ChildRecord | undefined {
    return this.byId.get(id);
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Adds and starts a child (OTP start_child); for simple_one_for_one, one more instance. */
  startChild(spec: ChildSpec): Promise<ChildRecord> {
    return this.run(async () => {
      this.requireRunning();
      if (this.byId.has(spec.id))
        throw new SupervisorOperationRefused(`${childPath(this.path, spec.id)} already exists`);
      if (this.records.length >= this.flags.maxChildren) {
        this.refusedFull++;
        throw new SupervisorFull(
          `${this.path} has ${this.records.length} children, its limit; ${childPath(this.path, spec.id)} was not started`,
        );
      }
      const r = this.addRecord(spec);
      try {
        await this.launch(r);
      } catch (err) {
        this.remove(r);
        throw new ActorStartFailed(`${r.path} failed to start: ${(err as Error).message}`, { cause: err });
      }
      return r;
    });
  }

  /**
   * The child with `spec.id`, started if absent. Concurrent calls for one id share one start, so a key never gets
   * two actors. A child winding down keeps its record: messages to it are held and revive it.
   */
  ensureChild(spec: ChildSpec): Promise<ChildRecord> {
    const existing = this.byId.get(spec.id);
    if (existing) return Promise.resolve(existing);
    const pending = this.pendingStarts.get(spec.id);
    if (pending) return pending;
    const p = this.startChild(spec).finally(() => this.pendingStarts.delete(spec.id));
    this.pendingStarts.set(spec.id, p);
    return p;
  }

  /** Stops a child (OTP terminate_child); a dynamic or temporary child is forgotten, a static one kept stopped. */
  terminateChild(id: string): Promise<void> {
    return this.run(async () => {
      const r = this.requireChild(id);
      await this.stopRecord(r);
      if (this.flags.strategy === 'simple_one_for_one' || r.spec.restart === 'temporary') this.remove(r);
    });
  }

  /** Forgets a stopped child and its spec (OTP delete_child): a later startChild may add it afresh. */
  deleteChild(id: string): Promise<void> {
    return this.run(async () => {
      const r = this.requireChild(id);
      if (r.incarnation) throw new SupervisorOperationRefused(`${r.path} is ${r.state}; stop it first`);
      this.remove(r);
    });
  }

  /** Starts a stopped static child again (OTP restart_child). */
  startStopped(id: string): Promise<void> {
    return this.run(async () => {
      const r = this.requireChild(id);
      if (r.incarnation) throw new SupervisorOperationRefused(`${r.path} is already ${r.state}`);
      r.setState('starting');
      await this.launchOrFail(r);
    });
  }

  /** An operator's restart: stop the child gracefully and start it again. Not counted against intensity. */
  restartChild(id: string): Promise<void> {
    return this.run(async () => {
      this.requireRunning();
      const r = this.requireChild(id);
      await this.stopRecord(r);
      r.setState('restarting');
      r.noteRestart();
      await this.launchOrFail(r);
      this.env.events.emit({
        type: 'restarted',
        path: r.path,
        restarts: r.restarts,
        delayMs: 0,
        manual: true,
        at: this.env.clock.wallNow(),
      });
    });
  }

  inspectChildren(): TreeNode[] {
    return this.records.map((r) => r.snapshot());
  }

  mailbox(): number {
    return 0;
  }

  capacity(): { children: number; max: number; refused: number } {
    return { children: this.records.length, max: this.flags.maxChildren, refused: this.refusedFull };
  }

  // --------------------------------------------------------------------------------------------- as a child

  async stop(shutdown: Shutdown): Promise<void> {
    if (this.ended) return;
    if (shutdown === 'brutal_kill') return this.kill();
    this.beginStopping();
    const work = this.run(async () => {
      await this.stopChildren();
      this.finish('stopped', { kind: 'shutdown' });
    });
    // Past its shutdown time a subtree is killed: whatever it still holds is cut short.
    const late = new Error('shutdown timeout');
    await withDeadline(work, shutdown, this.env.clock, () => late).catch((err: unknown) => {
      if (err !== late) throw err;
      this.kill();
    });
  }

  watch(observer: IncarnationObserver): void {
    void this.exited.then((reason) => observer.exited(this, reason));
  }

  kill(): void {
    if (this.ended) return;
    this.beginStopping();
    for (const r of [...this.records].reverse()) {
      r.incarnation?.kill();
      r.incarnation = undefined;
      r.setState('stopped');
    }
    this.finish('stopped', { kind: 'shutdown' });
  }

  // ------------------------------------------------------------------------------------------------ internals

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private requireRunning(): void {
    if (this.state !== 'running' && this.state !== 'starting')
      throw new SupervisorOperationRefused(`${this.path} is ${this.state}`);
  }

  private requireChild(id: string): ChildRecord {
    const r = this.byId.get(id);
    if (!r)
      throw new SupervisorOperationRefused(`${childPath(this.path, id)} is not a child of ${this.path}`);
    return r;
  }

  private addRecord(spec: ChildSpec): ChildRecord {
    const r = new ChildRecord(childPath(this.path, spec.id), spec, this, this.env);
    this.records.push(r);
    this.byId.set(spec.id, r);
    this.env.directory.register(r);
    return r;
  }

  private remove(r: ChildRecord): void {
    const i = this.records.indexOf(r);
    if (i >= 0) this.records.splice(i, 1);
    if (this.byId.get(r.id) === r) this.byId.delete(r.id);
    this.env.directory.unregister(r);
  }

  /** Starts one incarnation of `r` and watches it. Throws if the start fails. */
  private async launch(r: ChildRecord): Promise<void> {
    const inc = await r.spec.start({ path: r.path, env: this.env });
    if (this.ended) {
      // Killed while this child started (its shutdown time ran out): nothing outlives its supervisor.
      inc.kill();
      throw new SupervisorOperationRefused(`${this.path} is ${this.state}`);
    }
    r.incarnation = inc;
    r.startedAt = this.env.clock.now();
    r.startedAtWall = this.env.clock.wallNow();
    this.env.events.emit({
      type: 'started',
      path: r.path,
      kind: r.spec.kind,
      mode: r.spec.mode,
      pid: inc.pid,
      at: r.startedAtWall,
    });
    r.setState('running');
    inc.watch(r);
  }

  /** For operator actions: a start failure leaves the child failed and is reported to the caller. */
  private async launchOrFail(r: ChildRecord): Promise<void> {
    try {
      await this.launch(r);
    } catch (err) {
      r.lastError = serializeError(err);
      r.setState('failed');
      throw new ActorStartFailed(`${r.path} failed to start: ${(err as Error).message}`, { cause: err });
    }
  }

  /** An incarnation of `r` is over (its record, the incarnation's observer, reports it). */
  childExited(r: ChildRecord, inc: Incarnation, reason: ExitReason): void {
    if (r.incarnation !== inc || this.stopping.has(r)) return;
    r.incarnation = undefined;
    const at = this.env.clock.wallNow();
    if (reason.kind === 'failed') {
      r.lastError = reason.error;
      this.env.events.emit({ type: 'failed', path: r.path, error: reason.error, at });
    } else {
      this.env.events.emit({ type: 'stopped', path: r.path, reason: reason.kind, at });
    }
    if (!this.active()) {
      r.setState(reason.kind === 'failed' ? 'failed' : 'stopped');
      return;
    }
    // Hold messages from this moment if the child will (or may) come back.
    const willRestart =
      r.spec.restart === 'permanent' || (r.spec.restart === 'transient' && reason.kind === 'failed');
    if (willRestart) r.setState('restarting');
    else if (r.spec.reviveOnMessage && reason.kind === 'normal') r.setState('stopping');
    void this.run(() => this.handleExit(r, reason));
  }

  /** Stopped or failed: its exit has settled. */
  private get ended(): boolean {
    return this.state === 'stopped' || this.state === 'failed';
  }

  private active(): boolean {
    return this.state === 'running' || this.state === 'starting';
  }

  private async handleExit(r: ChildRecord, reason: ExitReason): Promise<void> {
    if (!this.active() || r.removed) return;
    const failed = reason.kind === 'failed';
    const restart = r.spec.restart === 'permanent' || (r.spec.restart === 'transient' && failed);
    if (!restart) {
      if (reason.kind === 'normal' && r.spec.reviveOnMessage && r.held > 0) {
        // Activation on demand: messages arrived while it wound down; start it again (not a restart).
        r.setState('starting');
        try {
          await this.launch(r);
        } catch (err) {
          await this.handleExit(r, { kind: 'failed', error: serializeError(err) });
        }
        return;
      }
      r.setState(failed ? 'failed' : 'stopped');
      if (r.spec.restart === 'temporary' || this.flags.strategy === 'simple_one_for_one') this.remove(r);
      if (r.spec.significant) await this.autoShutdown();
      return;
    }

    const now = this.env.clock.now();
    if (!this.window.admit(now)) {
      await this.escalate(r, reason);
      return;
    }
    const backoff = { ...this.flags.backoff, ...r.spec.backoff };
    if (r.startedAt !== undefined && now - r.startedAt >= backoff.resetAfterMs) r.consecutiveFailures = 0;
    r.consecutiveFailures++;
    const delay = backoffDelay(r.consecutiveFailures, backoff, this.env.random);

    const i = this.records.indexOf(r);
    const group =
      this.flags.strategy === 'one_for_all'
        ? [...this.records]
        : this.flags.strategy === 'rest_for_one'
          ? this.records.slice(i)
          : [r];
    // Siblings that go down with it stop in reverse order, then everything restarts in start order.
    for (const sibling of [...group].reverse()) if (sibling !== r) await this.stopRecord(sibling);
    for (const member of group) member.setState('restarting');

    if (delay === 0) {
      await this.restartGroup(group, r, delay);
      return;
    }
    const timer = this.env.clock.setTimeout(() => {
      this.timers.delete(timer);
      void this.run(() => this.restartGroup(group, r, delay));
    }, delay);
    this.timers.add(timer);
  }

  private async restartGroup(group: ChildRecord[], cause: ChildRecord, delayMs: number): Promise<void> {
    if (!this.active()) return;
    for (const member of group) {
      // A child stopped or started on request while it waited (or forgotten since) is left as it is.
      if (member.state !== 'restarting') continue;
      member.noteRestart();
      try {
        await this.launch(member);
      } catch (err) {
        // A restart that cannot start is one more failure of that child: intensity and backoff apply.
        const error = serializeError(err);
        member.lastError = error;
        this.env.events.emit({ type: 'failed', path: member.path, error, at: this.env.clock.wallNow() });
        await this.handleExit(member, { kind: 'failed', error });
        return;
      }
      this.env.events.emit({
        type: 'restarted',
        path: member.path,
        restarts: member.restarts,
        delayMs: member === cause ? delayMs : 0,
        manual: false,
        at: this.env.clock.wallNow(),
      });
    }
  }

  private async escalate(r: ChildRecord, reason: ExitReason): Promise<void> {
    const last: SerializedError | undefined = reason.kind === 'failed' ? reason.error : undefined;
    const error = new RestartIntensityExceeded(
      `${this.path}: more than ${this.flags.intensity} restart(s) in ${this.flags.periodMs} ms; last failure: ${r.path}${last ? `: ${last.message}` : ''}`,
      { cause: last ? rehydrateError(last) : undefined },
    );
    const serialized = serializeError(error);
    this.beginStopping();
    this.env.events.emit({
      type: 'escalated',
      path: this.path,
      error: serialized,
      at: this.env.clock.wallNow(),
    });
    await this.stopChildren();
    r.setState('failed');
    this.finish('failed', { kind: 'failed', error: serialized });
  }

  private async autoShutdown(): Promise<void> {
    const significant = this.records.filter((x) => x.spec.significant);
    const done =
      this.flags.autoShutdown === 'any_significant' ||
      (this.flags.autoShutdown === 'all_significant' && significant.every((x) => !x.incarnation));
    if (this.flags.autoShutdown === 'never' || !done) return;
    this.beginStopping();
    await this.stopChildren();
    this.finish('stopped', { kind: 'shutdown' });
  }

  private beginStopping(): void {
    if (this.state === 'running' || this.state === 'starting') this.state = 'stopping';
    for (const t of this.timers) this.env.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** Reverse start order; dynamic children all at once (their order carries no meaning). */
  private async stopChildren(): Promise<void> {
    const list = [...this.records].reverse();
    if (this.flags.strategy === 'simple_one_for_one') await Promise.all(list.map((r) => this.stopRecord(r)));
    else for (const r of list) await this.stopRecord(r);
    for (const r of list) this.remove(r);
  }

  private async stopRecord(r: ChildRecord): Promise<void> {
    const inc = r.incarnation;
    if (!inc) {
      if (r.state !== 'failed') r.setState('stopped');
      return;
    }
    this.stopping.add(r);
    r.setState('stopping');
    try {
      await inc.stop(r.spec.shutdown);
    } finally {
      this.stopping.delete(r);
      r.incarnation = undefined;
    }
    this.env.events.emit({ type: 'stopped', path: r.path, reason: 'shutdown', at: this.env.clock.wallNow() });
    r.setState('stopped');
  }

  private finish(state: 'stopped' | 'failed', reason: ExitReason): void {
    // The first end stands, so the state agrees with the exit reason (a start cut short by a kill ends killed).
    if (this.ended) return;
    this.state = state;
    this.resolveExit(reason);
  }
}
