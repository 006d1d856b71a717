import { z } from 'zod';
import type { StateAccess } from '../../src/actor-system/incarnation.ts';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { TimerHandle } from '../../src/supervision/clock.ts';
import type { Deviation } from '../../src/monitor/deviation.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import type { SvcTasks } from '../../topology/schema.ts';
import { TaskInvalid, TaskNotFound, TaskOverlap, TaskReadOnly } from './errors.ts';
import { DueQueue } from './due-queue.ts';
import type { OpenRun, RunRecord, TaskLedger, Trigger } from './ledger.ts';
import { claim, EMPTY_LEDGER, record, recover } from './ledger.ts';
import type { SchedulerProtocol, TaskDetail, TaskSource, TaskView } from './protocol.ts';
import { TASKS_EVENT_TOPIC } from './protocol.ts';
import type { Job, JobOutcome } from './runner.ts';
import { nextFiring } from './schedule.ts';
import { targetSites } from './sitemode.ts';
import type { TaskSites } from './sites.ts';
import { SvcTask } from './task.ts';

/**
 * `/svctasks/<domain>`: the domain's service-task scheduler, on the active instance of the group serving the domain.
 * It keeps every task of the domain (from the tasks file and the API) in one timetable ({@link DueQueue}), fires each
 * at its times (schedule.ts) on the sites its `sitemode` selects (sitemode.ts), claims every firing in its fenced
 * ledger before running it (ledger.ts: exactly once per firing and site across takeovers), and runs it with this
 * site's runner or carries it to another site's (sites.ts).
 */

/** The timer is re-armed at least this often, so a wall-clock change is noticed. */
const MAX_TIMER_MS = 60_000;
/** A claim that could not be saved (the state store out of reach) is tried again this much later. */
const CLAIM_RETRY_MS = 1_000;

export interface SchedulerArgs {
  domain: string;
  site: string;
  node: string;
  config: SvcTasks;
  /** This domain's tasks from the tasks file. */
  fileTasks: SvcTask[];
  /** Per-task saved state, fenced by the group's epoch (the node's persistence). */
  state: StateAccess;
  epoch: () => number;
  sites: TaskSites;
  /** Runs a job with this site's runner. */
  runLocal: (job: Job, stop: AbortSignal) => Promise<JobOutcome>;
  notify: (n: ServiceNotice) => void;
}

/** What a task keeps in the state store under {@link stateKey}. */
export interface TaskSaved {
  /** The definition, for a task made over the API (a file task's comes from the file). */
  def: SvcTask | null;
  /** Nothing fires at or before this (the time the task was first scheduled). */
  since: number;
  ledger: TaskLedger;
}

interface Entry {
  task: SvcTask;
  source: TaskSource;
  since: number;
  ledger: TaskLedger;
  next: number | null;
  /** Saves of this task, in order (a later one must not land before an earlier one). */
  saving: Promise<void>;
  /** Scheduled firings whose claim failed and is to be tried again ({@link SchedulerActor.retry}). */
  retrying: Set<number>;
}

export function stateKey(domain: string, id: string): string {
  return `svctask/${domain}/${id}`;
}

class SchedulerActor implements Behavior<SchedulerProtocol> {
  private readonly tasks = new Map<string, Entry>();
  private readonly due = new DueQueue();
  /** Runs under way, by `task|site`. */
  private readonly running = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly args: SchedulerArgs,
    private readonly ctx: ActorContext,
  ) {}

  get handlers(): Handlers<SchedulerProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<SchedulerProtocol, SchedulerActor> = {
    list() {
      return [...this.tasks.values()].map((e) => this.view(e));
    },
    get({ id }) {
      const e = this.entry(id);
      return {
        ...this.view(e),
        svcscriptcode: e.task.svcscriptcode,
        runs: e.ledger.runs,
        open: e.ledger.open,
      } satisfies TaskDetail;
    },
    async put({ task }) {
      return this.view(await this.put(task));
    },
    async delete({ id }) {
      const e = this.entry(id);
      if (e.source === 'file')
        throw new TaskReadOnly(`task ${id} of ${this.args.domain} comes from the tasks file`);
      this.tasks.delete(id);
      this.due.remove(id);
      await this.args.state.delete(stateKey(this.args.domain, id));
      return { deleted: id };
    },
    deviations() {
      const out: Deviation[] = [];
      for (const e of this.tasks.values()) {
        const last = e.ledger.runs.at(-1);
        if (!e.task.isenabled || !last || last.status === 'ok' || last.status === 'skipped-overlap') continue;
        out.push({
          source: `/svctasks/${this.args.domain}`,
          kind: `task-${last.status}`,
          severity: 'warning',
          since: new Date(last.finished_at).toISOString(),
          message: `task ${e.task.id} of ${this.args.domain}: last run ${last.status}${last.site ? ` on ${last.site}` : ''}`,
          details: {
            task: e.task.id,
            firing_at: last.firing_at,
            ...(last.error !== undefined && { error: last.error }),
          },
        });
      }
      return out;
    },
    async 'run-now'({ id }) {
      const e = this.entry(id);
      return this.fire(e, this.ctx.clock.wallNow(), 'run-now');
    },
  };

  /** Restores every task (saved state first), records interrupted runs, and arms the timetable. */
  async start(): Promise<void> {
    const { domain, state } = this.args;
    const now = this.ctx.clock.wallNow();
    const keys = await state.keys(stateKey(domain, ''));
    const saved = new Map<string, TaskSaved>();
    await Promise.all(
      keys.map(async (k) => {
        const v = (await state.load(k)) as TaskSaved | undefined;
        if (v) saved.set(k.slice(stateKey(domain, '').length), v);
      }),
    );
    const fresh: Entry[] = [];
    for (const task of this.args.fileTasks) {
      const s = saved.get(task.id);
      const e = this.add(task, 'file', s?.since ?? now, s?.ledger ?? EMPTY_LEDGER);
      if (!s) fresh.push(e);
    }
    for (const [id, s] of saved) {
      if (this.tasks.has(id)) continue;
      if (s.def) this.add(s.def, 'api', s.since, s.ledger);
      // A saved ledger of a file task no longer in the file is left alone (the file may bring it back).
    }
    let interrupted = 0;
    const writes: Promise<void>[] = fresh.map((e) => this.save(e));
    for (const e of this.tasks.values()) {
      if (!e.ledger.open.length) continue;
      const r = recover(e.ledger, now, this.args.config.keep_runs);
      e.ledger = r.ledger;
      interrupted += r.interrupted;
      writes.push(this.save(e));
    }
    await Promise.all(writes);
    if (interrupted)
      this.notice(
        'interrupted',
        'warn',
        `${interrupted} run(s) claimed by a previous active had no outcome`,
        {
          interrupted,
        },
      );
    for (const e of this.tasks.values()) this.arm(e, now);
    this.wake();
  }

  private add(task: SvcTask, source: TaskSource, since: number, ledger: TaskLedger): Entry {
    const e: Entry = {
      task,
      source,
      since,
      ledger,
      next: null,
      saving: Promise.resolve(),
      retrying: new Set(),
    };
    this.tasks.set(task.id, e);
    return e;
  }

  private entry(id: string): Entry {
    const e = this.tasks.get(id);
    if (!e) throw new TaskNotFound(`no task ${id} in ${this.args.domain}`);
    return e;
  }

  private async put(input: unknown): Promise<Entry> {
    const parsed = SvcTask.safeParse(input);
    if (!parsed.success)
      throw new TaskInvalid(
        `the task is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        {
          details: {
            issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
          },
        },
      );
    const task = parsed.data;
    if (task.domain !== this.args.domain)
      throw new TaskInvalid(`task ${task.id} is of ${task.domain}, not of ${this.args.domain}`);
    const unknown = task.sites.filter((s) => !this.args.sites.known.includes(s));
    if (unknown.length)
      throw new TaskInvalid(
        `task ${task.id}: unknown site(s) ${unknown.join(', ')}; sites with a tasks runner: ${this.args.sites.known.join(', ')}`,
      );
    const old = this.tasks.get(task.id);
    if (old?.source === 'file')
      throw new TaskReadOnly(`task ${task.id} of ${this.args.domain} comes from the tasks file`);
    const now = this.ctx.clock.wallNow();
    const e = this.add(task, 'api', old?.since ?? now, old?.ledger ?? EMPTY_LEDGER);
    await this.save(e);
    this.arm(e, now);
    this.wake();
    return e;
  }

  /**
   * Computes the task's next firing. Firings due more than `grace_ms` ago (no active instance then) are recorded as
   * one `missed` run with their count.
   */
  private arm(e: Entry, now: number): void {
    if (!e.task.isenabled) {
      e.next = null;
      this.due.set(e.task.id, null);
      return;
    }
    const week = this.args.config.work_week;
    const after = Math.max(e.ledger.last_fired ?? -Infinity, e.since);
    let next = nextFiring(e.task, after, week);
    const oldest = now - this.args.config.grace_ms;
    if (next !== null && next < oldest) {
      const first = next;
      let count = 0;
      let last = next;
      while (next !== null && next < oldest && count < 1_000_000) {
        count++;
        last = next;
        next = nextFiring(e.task, next, week);
      }
      e.ledger = record(
        { ...e.ledger, last_fired: last },
        this.missed(first, count, now),
        this.args.config.keep_runs,
      );
      // A failed claim among them is accounted for by this record: its retry must not run or record it again. (Every
      // pending retry is of a firing before the one being armed, so none is after `last`.)
      for (const f of e.retrying) if (f >= first) e.retrying.delete(f);
      void this.save(e).catch(() => undefined);
    }
    e.next = next;
    this.due.set(e.task.id, next);
  }

  private missed(first: number, count: number, now: number): RunRecord {
    return {
      firing_at: first,
      site: null,
      trigger: 'schedule',
      status: 'missed',
      started_at: null,
      finished_at: now,
      duration_ms: null,
      exit_code: null,
      output: '',
      error: `${count} firing(s) from ${new Date(first).toISOString()} on were not run within grace_ms (no active instance, or no claim could be saved)`,
      node: this.args.node,
      epoch: this.args.epoch(),
      count,
    };
  }

  /** Sets the timer for the earliest due firing. */
  private wake(): void {
    if (this.stopped) return;
    const at = this.due.peek();
    if (at === undefined) return this.clearTimer();
    if (at >= this.timerAt && this.timer) return;
    this.clearTimer();
    const wait = Math.max(0, Math.min(at - this.ctx.clock.wallNow(), MAX_TIMER_MS));
    this.timerAt = at;
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.tick();
    }, wait);
  }

  private clearTimer(): void {
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.ctx.clock.wallNow();
    for (const { id } of this.due.takeDue(now)) {
      const e = this.tasks.get(id);
      if (!e || e.next === null) continue;
      const at = e.next;
      // The node was held up (a paused event loop, a suspended VM) past the grace: recorded as missed, not run in
      // a burst.
      if (now - at > this.args.config.grace_ms) {
        this.arm(e, now);
        continue;
      }
      this.track(
        this.fire(e, at, 'schedule').catch((err: unknown) => {
          this.ctx.log.warn({ err, task: id }, 'svctasks: a firing failed');
        }),
      );
      // The next one is computed from this firing, whatever became of it.
      e.next = nextFiring(e.task, at, this.args.config.work_week);
      this.due.set(id, e.next);
    }
    this.wake();
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /**
   * One firing: chooses its sites, claims it (a fenced save) and runs it on each; answers with the runs' records
   * once they have ended. A firing whose claim cannot be saved is not run; a scheduled one is tried again shortly.
   */
  private async fire(e: Entry, firingAt: number, trigger: Trigger, retried = false): Promise<RunRecord[]> {
    const { task } = e;
    const now = this.ctx.clock.wallNow();
    const live = await this.args.sites.live();
    const sites = targetSites(task, this.args.sites.known, live, this.args.site);
    const busy = task.overlap ? [] : sites.filter((s) => (this.running.get(`${task.id}|${s}`) ?? 0) > 0);
    if (trigger === 'run-now' && busy.length)
      throw new TaskOverlap(
        `task ${task.id} is still running on ${busy.join(', ')} and does not allow overlapping runs`,
      );
    const base = { firing_at: firingAt, trigger, node: this.args.node, epoch: this.args.epoch() };
    const quick: RunRecord[] = [];
    const blank = { started_at: null, finished_at: now, duration_ms: null, exit_code: null, output: '' };
    if (!sites.length)
      quick.push({
        ...base,
        ...blank,
        site: null,
        status: 'no-site',
        error: `no live site for sitemode ${task.sitemode}`,
      });
    for (const s of busy)
      quick.push({
        ...base,
        ...blank,
        site: s,
        status: 'skipped-overlap',
        error: 'the previous run is still going',
      });
    const go = sites.filter((s) => !busy.includes(s));
    const open: OpenRun[] = go.map((site) => ({ ...base, site, started_at: now }));
    const before = e.ledger;
    let ledger = claim(e.ledger, open, firingAt, trigger);
    for (const r of quick) ledger = record(ledger, r, this.args.config.keep_runs);
    e.ledger = ledger;
    try {
      await this.save(e);
    } catch (err) {
      e.ledger = before;
      if (trigger === 'schedule' && !this.stopped) {
        // Said once per firing: a store outage would otherwise log every pending firing every second.
        this.ctx.log[retried ? 'debug' : 'warn'](
          { err, task: task.id, firing_at: firingAt },
          'svctasks: could not claim a firing; retrying every second within grace_ms',
        );
        this.retry(e, firingAt);
      }
      throw err;
    }
    if (quick.length)
      this.notice(
        'skipped',
        'warn',
        `task ${task.id}: firing not run on ${quick.map((q) => q.site ?? '-').join(', ')}`,
        {
          task: task.id,
          statuses: quick.map((q) => q.status),
        },
      );
    const runs = await Promise.all(go.map((site) => this.runOn(e, site, firingAt, trigger, now)));
    return [...quick, ...runs];
  }

  /**
   * A claim that failed is tried again while inside the grace period, else recorded as missed. Whether it is still
   * pending is kept per firing (`retrying`), not read off `last_fired`: a later firing claimed meanwhile moves
   * `last_fired` past this one, which was still neither run nor recorded.
   */
  private retry(e: Entry, firingAt: number): void {
    e.retrying.add(firingAt);
    this.ctx.clock.setTimeout(() => {
      if (this.stopped || this.tasks.get(e.task.id) !== e) return;
      // Recorded as missed meanwhile (arm).
      if (!e.retrying.delete(firingAt)) return;
      const now = this.ctx.clock.wallNow();
      if (now - firingAt > this.args.config.grace_ms) {
        // Too late to run: recorded as missed (best effort: the store may still be out of reach). `last_fired` is
        // never moved back (a later firing may have been claimed since).
        e.ledger = record(
          { ...e.ledger, last_fired: Math.max(e.ledger.last_fired ?? -Infinity, firingAt) },
          this.missed(firingAt, 1, now),
          this.args.config.keep_runs,
        );
        void this.save(e).catch(() => undefined);
        return;
      }
      this.track(this.fire(e, firingAt, 'schedule', true).catch(() => undefined));
    }, CLAIM_RETRY_MS);
  }

  private async runOn(
    e: Entry,
    site: string,
    firingAt: number,
    trigger: Trigger,
    startedAt: number,
  ): Promise<RunRecord> {
    const { task } = e;
    const key = `${task.id}|${site}`;
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    const job: Job = {
      task: task.id,
      name: task.name,
      domain: this.args.domain,
      site,
      firing_at: firingAt,
      code: task.svcscriptcode,
      deadline_ms: this.args.config.deadline_ms,
    };
    let outcome: JobOutcome | undefined;
    let unreachable: string | undefined;
    try {
      outcome =
        site === this.args.site
          ? await this.args.runLocal(job, this.abort.signal)
          : await this.args.sites.runRemote(site, job);
    } catch (err) {
      unreachable = (err as Error).message;
    } finally {
      const n = (this.running.get(key) ?? 1) - 1;
      if (n > 0) this.running.set(key, n);
      else this.running.delete(key);
    }
    const run: RunRecord = {
      firing_at: firingAt,
      site,
      trigger,
      status: this.stopped ? 'interrupted' : (outcome?.status ?? 'unreachable'),
      started_at: startedAt,
      finished_at: this.ctx.clock.wallNow(),
      duration_ms: outcome?.duration_ms ?? null,
      exit_code: outcome?.exit_code ?? null,
      output: outcome?.output ?? '',
      node: this.args.node,
      epoch: this.args.epoch(),
    };
    const error = this.stopped ? 'the scheduler stopped during the run' : (outcome?.error ?? unreachable);
    if (error !== undefined) run.error = error;
    e.ledger = record(e.ledger, run, this.args.config.keep_runs);
    try {
      await this.save(e);
    } catch (err) {
      // Deposed (a newer active records it as interrupted) or the store out of reach: the run stays in memory.
      this.ctx.log.warn({ err, task: task.id }, 'svctasks: could not save a run’s outcome');
    }
    if (run.status !== 'ok')
      this.notice(
        'run-failed',
        'warn',
        `task ${task.id} on ${site}: ${run.status}${error ? `: ${error}` : ''}`,
        {
          task: task.id,
          site,
          status: run.status,
        },
      );
    return run;
  }

  private save(e: Entry): Promise<void> {
    const saved: TaskSaved = { def: e.source === 'api' ? e.task : null, since: e.since, ledger: e.ledger };
    const p = e.saving
      .catch(() => undefined)
      .then(() => this.args.state.save(stateKey(this.args.domain, e.task.id), saved));
    e.saving = p;
    return p;
  }

  private view(e: Entry): TaskView {
    const { svcscriptcode, ...def } = e.task;
    const running = [...this.running.keys()]
      .filter((k) => k.startsWith(`${e.task.id}|`))
      .map((k) => k.slice(e.task.id.length + 1));
    return {
      ...def,
      source: e.source,
      code_bytes: Buffer.byteLength(svcscriptcode),
      next_at: e.next,
      last_fired: e.ledger.last_fired,
      running,
      last_run: e.ledger.runs.at(-1) ?? null,
    };
  }

  private notice(
    event: string,
    level: ServiceNotice['level'],
    message: string,
    data: Record<string, unknown>,
  ) {
    this.args.notify({
      type: 'notice',
      topic: TASKS_EVENT_TOPIC,
      event,
      level,
      message,
      data: { domain: this.args.domain, ...data },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}
const HANDLERS = SchedulerActor.handlers;

const Id = z.strictObject({ id: z.string().min(1).max(100) });

export const schedulerActor = defineActor<SchedulerProtocol, SchedulerArgs>({
  kind: 'svctask-scheduler',
  moduleUrl: import.meta.url,
  exportName: 'schedulerActor',
  messages: {
    list: { payload: z.null(), scope: 'read', summary: 'The domain’s tasks, their next firing and last run' },
    get: { payload: Id, scope: 'read', summary: 'A task with its script code and its last runs' },
    put: {
      payload: z.strictObject({ task: z.record(z.string(), z.unknown()) }),
      scope: 'admin',
      summary: 'Creates or replaces a task (API tasks only; a file task is changed in the file)',
    },
    delete: { payload: Id, scope: 'admin', summary: 'Deletes an API task and its runs' },
    deviations: {
      payload: z.null(),
      scope: 'read',
      summary:
        'Tasks whose last run did not succeed (failed, timeout, unreachable, interrupted, missed, no-site)',
    },
    'run-now': {
      payload: Id,
      scope: 'admin',
      summary: 'Fires the task now on its sites; answers with the runs once they have ended',
    },
  },
  create: async (args, ctx) => {
    const a = new SchedulerActor(args, ctx);
    await a.start();
    return a;
  },
});
