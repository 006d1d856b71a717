import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import type { StateAccess } from '../../../src/actor-system/incarnation.ts';
import type { ActorContext, Behavior } from '../../../src/actor-system/kind.ts';
import type { Log } from '../../../src/log/log.ts';
import { createLogger } from '../../../src/log/log.ts';
import { childOutputLog } from '../../../src/child-output.ts';
import { StaleEpoch } from '../../../src/state/errors.ts';
import type { TimerHandle } from '../../../src/supervision/clock.ts';
import { ManualClock, flushMicrotasks } from '../../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../../src/supervision/events.ts';
import { SvcTasks } from '../../../topology/schema.ts';
import type { RunRecord } from '../../../actors/svctasks/ledger.ts';
import type { SchedulerProtocol } from '../../../actors/svctasks/protocol.ts';
import type { Job, JobOutcome } from '../../../actors/svctasks/runner.ts';
import { runJob } from '../../../actors/svctasks/runner.ts';
import type { SchedulerArgs, TaskSaved } from '../../../actors/svctasks/scheduler-actor.ts';
import { schedulerActor, stateKey } from '../../../actors/svctasks/scheduler-actor.ts';
import { TASKS_EVENT_TOPIC } from '../../../actors/svctasks/protocol.ts';
import type { TaskSites } from '../../../actors/svctasks/sites.ts';
import { SvcTask } from '../../../actors/svctasks/task.ts';

/**
 * The scheduler of one domain on a manual clock, its state in a store fenced by epoch as Redis fences it (a write
 * below the group's fence is refused), its runners fakes that record every job: firings at their times, on the
 * sites of their sitemode, exactly once across a takeover in the middle of a run, overlap refused unless allowed.
 */

const DOMAIN = 'test.rootdomain.ru';
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

/** A state store fenced like src/state/redis-store.ts: raising the fence refuses older epochs' writes. */
class FencedStore {
  readonly data = new Map<string, unknown>();
  fence = 0;
  /** The store out of reach: every write fails. */
  down = false;
  access(epoch: () => number): StateAccess {
    const check = () => {
      if (this.down) throw new Error('state store unreachable');
      if (epoch() < this.fence) throw new StaleEpoch(`fenced at ${this.fence}`);
    };
    return {
      durable: true,
      load: async (k) => structuredClone(this.data.get(k)),
      save: async (k, v) => {
        check();
        this.data.set(k, structuredClone(v));
      },
      delete: async (k) => {
        check();
        this.data.delete(k);
      },
      keys: async (p) => [...this.data.keys()].filter((k) => k.startsWith(p)),
    };
  }
}

/** A runner whose jobs end when the test says so (or at once, with `auto`). */
class FakeRunner {
  readonly jobs: Job[] = [];
  private readonly waiting: ((o: JobOutcome) => void)[] = [];
  /** Called as a job starts (what the store holds then). */
  onRun?: (job: Job) => void;
  /** The outcome of an `auto` job; a string: the runner cannot be reached (rejects with it). */
  outcome: ((job: Job) => JobOutcome) | string = ok;
  constructor(public auto = true) {}
  run = (job: Job): Promise<JobOutcome> => {
    this.jobs.push(job);
    this.onRun?.(job);
    const outcome = this.outcome;
    if (typeof outcome === 'string') return Promise.reject(new Error(outcome));
    if (this.auto) return Promise.resolve(outcome(job));
    return new Promise((r) => this.waiting.push(r));
  };
  finishAll(): void {
    for (const r of this.waiting.splice(0)) r({ status: 'ok', exit_code: 0, duration_ms: 5, output: 'late' });
  }
  finishOne(): void {
    this.waiting.shift()?.({ status: 'ok', exit_code: 0, duration_ms: 5, output: 'late' });
  }
}
const ok = (job: Job): JobOutcome => ({
  status: 'ok',
  exit_code: 0,
  duration_ms: 1,
  output: `ran ${job.task}@${job.site}`,
});

const config = SvcTasks.parse({ runner: { command: ['/bin/sh'] }, grace_ms: 30_000, keep_runs: 50 });

interface World {
  clock: ManualClock;
  store: FencedStore;
  local: FakeRunner;
  remote: FakeRunner;
  live: Set<string>;
  notices: ServiceNotice[];
  /** The scheduler's warnings (log records). */
  warnings: { obj: Record<string, unknown>; msg: string }[];
  /** Added to the wall clock the scheduler reads (a process that was stopped sees its timers fire late). */
  skew: number;
}

function world(): World {
  return {
    clock: new ManualClock(0, T0),
    store: new FencedStore(),
    local: new FakeRunner(),
    remote: new FakeRunner(),
    live: new Set(['east']),
    notices: [],
    warnings: [],
    skew: 0,
  };
}

async function scheduler(
  w: World,
  epoch: number,
  fileTasks: Record<string, unknown>[],
): Promise<Behavior<SchedulerProtocol>> {
  const log = createLogger({ level: 'silent' });
  log.warn = ((obj: Record<string, unknown>, msg: string) => {
    w.warnings.push({ obj, msg });
  }) as typeof log.warn;
  const sites: TaskSites = {
    known: ['west', 'east'],
    live: async () => new Set(['west', ...w.live]),
    runRemote: (_site, job) => w.remote.run(job),
  };
  const args: SchedulerArgs = {
    domain: DOMAIN,
    site: 'west',
    node: `node-e${epoch}`,
    config,
    fileTasks: fileTasks.map((t) => SvcTask.parse({ domain: DOMAIN, svcscriptcode: 'echo hi', ...t })),
    state: w.store.access(() => epoch),
    epoch: () => epoch,
    sites,
    runLocal: (job) => w.local.run(job),
    notify: (n) => w.notices.push(n),
  };
  const ctx = {
    path: `/svctasks/${DOMAIN}`,
    clock: {
      now: () => w.clock.now(),
      wallNow: () => w.clock.wallNow() + w.skew,
      setTimeout: (fn: () => void, ms: number) => w.clock.setTimeout(fn, ms),
      clearTimeout: (h: TimerHandle) => w.clock.clearTimeout(h),
    },
    log,
    state: undefined,
    fail: () => undefined,
    stop: () => undefined,
  } as unknown as ActorContext;
  return schedulerActor.create(args, ctx);
}

/** A message to the behaviour, as its actor would deliver it (a handler that throws is a rejected ask). */
const call = async <K extends keyof SchedulerProtocol>(
  b: Behavior<SchedulerProtocol>,
  type: K,
  payload: SchedulerProtocol[K]['request'],
) =>
  (b.handlers[type] as (this: unknown, p: unknown) => Promise<SchedulerProtocol[K]['reply']>).call(
    b,
    payload,
  );

/** What the store holds for a task. */
const stored = (w: World, id: string) => w.store.data.get(stateKey(DOMAIN, id)) as TaskSaved | undefined;

/** The firings (ms after T0) a runner ran, in order. */
const firings = (r: FakeRunner, task?: string) =>
  r.jobs.filter((j) => task === undefined || j.task === task).map((j) => j.firing_at - T0);

const runsOf = async (b: Behavior<SchedulerProtocol>, id: string): Promise<RunRecord[]> =>
  (await call(b, 'get', { id })).runs;

describe('service task scheduler', () => {
  it('fires a regular task at its grid times, on its own site for sitemode any, each run recorded', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'every10', intervalsec: 10 }]);
    await w.clock.advance(35_000);
    assert.deepEqual(
      w.local.jobs.map((j) => j.firing_at - T0),
      [10_000, 20_000, 30_000],
    );
    const runs = await runsOf(s, 'every10');
    assert.deepEqual(
      runs.map((r) => [r.status, r.site, r.output]),
      Array(3).fill(['ok', 'west', 'ran every10@west']),
    );
    await s.stop?.();
  });

  it('sitemode all runs once on each site per firing; first skips a dead site; no live site is recorded', async () => {
    const w = world();
    const s = await scheduler(w, 1, [
      { id: 'all', intervalsec: 10, sitemode: 'all' },
      { id: 'first', intervalsec: 10, sitemode: 'first', sites: ['east', 'west'] },
      { id: 'eastonly', intervalsec: 10, sitemode: 'sites_any', sites: ['east'] },
    ]);
    await w.clock.advance(10_000);
    w.live.clear();
    await w.clock.advance(10_000);
    const at = (r: FakeRunner, task: string) =>
      r.jobs.filter((j) => j.task === task).map((j) => j.firing_at - T0);
    assert.deepEqual(at(w.local, 'all'), [10_000, 20_000]);
    assert.deepEqual(at(w.remote, 'all'), [10_000, 20_000]);
    // east first while live, then west.
    assert.deepEqual(at(w.remote, 'first'), [10_000]);
    assert.deepEqual(at(w.local, 'first'), [20_000]);
    assert.deepEqual(at(w.remote, 'eastonly'), [10_000]);
    assert.deepEqual(
      (await runsOf(s, 'eastonly')).map((r) => [r.status, r.error]),
      [
        ['ok', undefined],
        ['no-site', 'no live site for sitemode sites_any'],
      ],
    );
    assert.deepEqual(
      w.notices.filter((n) => n.event === 'skipped').map((n) => n.message),
      ['task eastonly: firing not run on -'],
    );
    // The task whose last firing found no site is a deviation of the system state; the others are not.
    assert.deepEqual(
      (await call(s, 'deviations', null)).map((d) => [d.kind, d.message]),
      [['task-no-site', `task eastonly of ${DOMAIN}: last run no-site`]],
    );
    await s.stop?.();
  });

  it('never overlaps itself: a firing during a run is recorded skipped-overlap, run-now is refused; overlap: true runs both', async () => {
    const w = world();
    w.local.auto = false;
    const s = await scheduler(w, 1, [
      { id: 'slow', intervalsec: 10 },
      { id: 'lax', intervalsec: 10, overlap: true },
    ]);
    await w.clock.advance(20_000);
    const slow = w.local.jobs.filter((j) => j.task === 'slow');
    assert.equal(slow.length, 1, 'the second firing of slow did not run');
    assert.equal(w.local.jobs.filter((j) => j.task === 'lax').length, 2);
    await assert.rejects(call(s, 'run-now', { id: 'slow' }), {
      code: 'MW_ERR_TASK_OVERLAP',
      message: 'task slow is still running on west and does not allow overlapping runs',
    });
    w.local.finishAll();
    await flushMicrotasks();
    const statuses = (await runsOf(s, 'slow')).map((r) => r.status).sort();
    assert.deepEqual(statuses, ['ok', 'skipped-overlap']);
    w.local.auto = true;
    const now = await call(s, 'run-now', { id: 'slow' });
    assert.deepEqual(
      now.map((r) => [r.status, r.trigger]),
      [['ok', 'run-now']],
    );
    await s.stop?.();
  });

  it('a takeover during a run: the new active records it interrupted, never runs that firing again, and fires the ones due meanwhile', async () => {
    const w = world();
    w.local.auto = false;
    // overlap allowed, so that only the fence keeps the old active from running the next firing.
    const old = await scheduler(w, 1, [{ id: 'job', intervalsec: 10, overlap: true }]);
    await w.clock.advance(10_000); // firing @10s claimed and running on the old active
    assert.equal(w.local.jobs.length, 1);
    // The group's lease passes to epoch 2: the fence goes up, the old active does not know yet.
    w.store.fence = 2;
    await w.clock.advance(5_000);
    const fresh = await scheduler(w, 2, [{ id: 'job', intervalsec: 10, overlap: true }]);
    // The old active's next firing (@20s) cannot be claimed: it does not run there.
    w.local.auto = true;
    await w.clock.advance(10_000);
    w.local.finishAll(); // the old run ends; its outcome cannot be saved over the new epoch
    await flushMicrotasks();
    await old.stop?.();
    const firings = w.local.jobs.map((j) => j.firing_at - T0);
    assert.deepEqual(firings, [10_000, 20_000], 'each firing ran once');
    const runs = await runsOf(fresh, 'job');
    assert.deepEqual(
      runs.map((r) => [r.firing_at - T0, r.status, r.epoch]),
      [
        [10_000, 'interrupted', 1],
        [20_000, 'ok', 2],
      ],
    );
    assert.deepEqual(
      w.notices.filter((n) => n.event === 'interrupted'),
      [
        {
          type: 'notice',
          topic: TASKS_EVENT_TOPIC,
          event: 'interrupted',
          level: 'warn',
          message: '1 run(s) claimed by a previous active had no outcome',
          data: { domain: DOMAIN, interrupted: 1 },
        },
      ],
    );
    const lost = w.warnings.find((x) => x.msg === 'svctasks: could not save a run’s outcome');
    assert.equal(lost?.obj.task, 'job');
    assert.ok(lost.obj.err instanceof StaleEpoch);
    await fresh.stop?.();
  });

  it('firings due while no instance was active: within grace_ms fired late, older ones recorded as missed with their count', async () => {
    const w = world();
    const first = await scheduler(w, 1, [{ id: 'job', intervalsec: 10 }]);
    await w.clock.advance(10_000);
    await first.stop?.();
    w.store.fence = 2;
    await w.clock.advance(60_000); // 70s: firings 20…70 s due; 20–30 s are older than the 30 s grace
    const next = await scheduler(w, 2, [{ id: 'job', intervalsec: 10 }]);
    await w.clock.advance(1);
    const runs = await runsOf(next, 'job');
    assert.deepEqual(
      runs.map((r) => [r.firing_at - T0, r.status, r.count ?? 1]),
      [
        [10_000, 'ok', 1],
        [20_000, 'missed', 2],
        [40_000, 'ok', 1],
        [50_000, 'ok', 1],
        [60_000, 'ok', 1],
        [70_000, 'ok', 1],
      ],
    );
    await next.stop?.();
  });

  it('a scheduler held up past grace_ms (a paused event loop) records the firings it slept through as missed, not a burst', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'job', intervalsec: 10 }]);
    await w.clock.advance(10_000);
    // The timer for 20 s fires when the wall clock says 80 s: as if the process had been stopped for a minute.
    w.skew = 60_000;
    await w.clock.advance(10_000);
    await w.clock.advance(1);
    const runs = await runsOf(s, 'job');
    assert.deepEqual(
      runs.map((r) => [r.firing_at - T0, r.status, r.count ?? 1]),
      [
        [10_000, 'ok', 1],
        [20_000, 'missed', 3],
        [50_000, 'ok', 1],
        [60_000, 'ok', 1],
        [70_000, 'ok', 1],
        [80_000, 'ok', 1],
      ],
    );
    await s.stop?.();
  });

  it('API tasks: put validates (unknown site, wrong domain → MW_ERR_TASK_INVALID), file tasks are read-only, delete forgets', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'fromfile', intervalsec: 10 }]);
    await assert.rejects(
      call(s, 'put', { task: { id: 'x', domain: DOMAIN, svcscriptcode: 'x', sitemode: 'first' } }),
      {
        code: 'MW_ERR_TASK_INVALID',
      },
    );
    await assert.rejects(
      call(s, 'put', {
        task: { id: 'x', domain: DOMAIN, svcscriptcode: 'x', sitemode: 'first', sites: ['mars'] },
      }),
      { code: 'MW_ERR_TASK_INVALID', message: /unknown site\(s\) mars/ },
    );
    await assert.rejects(call(s, 'put', { task: { id: 'fromfile', domain: DOMAIN, svcscriptcode: 'x' } }), {
      code: 'MW_ERR_TASK_READONLY',
    });
    const v = await call(s, 'put', {
      task: { id: 'api1', domain: DOMAIN, svcscriptcode: 'x', intervalsec: 5 },
    });
    assert.equal(v.next_at, T0 + 5_000);
    // Saved: a new incarnation (after a takeover) has it.
    await s.stop?.();
    const again = await scheduler(w, 1, [{ id: 'fromfile', intervalsec: 10 }]);
    assert.deepEqual(
      (await call(again, 'list', null)).map((t) => [t.id, t.source]),
      [
        ['fromfile', 'file'],
        ['api1', 'api'],
      ],
    );
    await call(again, 'delete', { id: 'api1' });
    await assert.rejects(call(again, 'get', { id: 'api1' }), { code: 'MW_ERR_TASK_NOT_FOUND' });
    await again.stop?.();
  });
});

describe('service task scheduler: the exactly-once core (claims, their retry, grace, recovery)', () => {
  it('a firing is claimed in the store before its job starts; a claim the store refuses is not run, retried each second, and run once the store is back', async () => {
    const w = world();
    const seen: (TaskSaved | undefined)[] = [];
    w.local.onRun = () => seen.push(structuredClone(stored(w, 'hourly')));
    const s = await scheduler(w, 1, [{ id: 'hourly', intervalsec: 60 }]);
    await w.clock.advance(59_000);
    w.store.down = true;
    await w.clock.advance(3_500); // 62.5 s: the claim at 60 s and its retries at 61 and 62 s failed
    assert.deepEqual(w.local.jobs, []);
    // Warned once per firing, not at every retry (an outage would flood the log with every pending firing).
    const claimFailed = [
      'svctasks: could not claim a firing; retrying every second within grace_ms',
      'hourly',
      T0 + 60_000,
    ];
    assert.deepEqual(
      w.warnings.map((x) => [x.msg, x.obj.task, x.obj.firing_at]),
      [claimFailed, ['svctasks: a firing failed', 'hourly', undefined]],
    );
    assert.match(String(w.warnings[0]?.obj.err), /state store unreachable/);
    w.store.down = false;
    await w.clock.advance(500);
    assert.deepEqual(firings(w.local), [60_000]);
    // When the job started, its claim was already in the store: a takeover from then on would not run it again.
    assert.deepEqual(seen[0]?.ledger, {
      last_fired: T0 + 60_000,
      open: [
        {
          firing_at: T0 + 60_000,
          trigger: 'schedule',
          node: 'node-e1',
          epoch: 1,
          site: 'west',
          started_at: T0 + 63_000,
        },
      ],
      runs: [],
    });
    assert.deepEqual(
      stored(w, 'hourly')?.ledger.runs.map((r) => [
        r.firing_at - T0,
        r.status,
        r.trigger,
        r.started_at! - T0,
      ]),
      [[60_000, 'ok', 'schedule', 63_000]],
    );
    assert.equal(stored(w, 'hourly')?.ledger.last_fired, T0 + 60_000);
    assert.deepEqual(stored(w, 'hourly')?.ledger.open, []);
    await w.clock.advance(57_000);
    assert.deepEqual(firings(w.local), [60_000, 120_000], 'the retried firing ran once');
    await s.stop?.();
  });

  it('a retried claim still runs at exactly grace_ms late; a retry after that records the firing missed (count 1) and does not run it', async () => {
    const outage = async (upAt: number) => {
      const w = world();
      const s = await scheduler(w, 1, [{ id: 'hourly', intervalsec: 60 }]);
      await w.clock.advance(59_000);
      w.store.down = true;
      await w.clock.advance(upAt - 59_000);
      w.store.down = false;
      await w.clock.advance(1_000);
      return { w, s };
    };
    const inTime = await outage(89_500); // retry at 90 s: 30 s late, the grace
    assert.deepEqual(firings(inTime.w.local), [60_000]);
    assert.deepEqual(
      (await runsOf(inTime.s, 'hourly')).map((r) => [r.status, r.started_at! - T0]),
      [['ok', 90_000]],
    );
    await inTime.s.stop?.();

    const late = await outage(90_500); // retry at 91 s: too late
    assert.deepEqual(late.w.local.jobs, []);
    const missed: RunRecord = {
      firing_at: T0 + 60_000,
      site: null,
      trigger: 'schedule',
      status: 'missed',
      started_at: null,
      finished_at: T0 + 91_000,
      duration_ms: null,
      exit_code: null,
      output: '',
      error:
        '1 firing(s) from 2026-03-02T10:01:00.000Z on were not run within grace_ms (no active instance, or no claim could be saved)',
      node: 'node-e1',
      epoch: 1,
      count: 1,
    };
    assert.deepEqual(await runsOf(late.s, 'hourly'), [missed]);
    assert.deepEqual(stored(late.w, 'hourly')?.ledger, { last_fired: T0 + 60_000, open: [], runs: [missed] });
    await late.w.clock.advance(30_000);
    assert.deepEqual(firings(late.w.local), [120_000]);
    await late.s.stop?.();
  });

  it('two firings whose claims failed both run once when the store is back, the earlier one too', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'job', intervalsec: 10 }]);
    await w.clock.advance(9_000);
    w.store.down = true;
    await w.clock.advance(16_000); // 25 s: the claims of 10 s and 20 s failed, and every retry since
    w.store.down = false;
    await w.clock.advance(1_000);
    assert.deepEqual(firings(w.local).sort(), [10_000, 20_000]);
    assert.deepEqual((await runsOf(s, 'job')).map((r) => [r.firing_at - T0, r.status]).sort(), [
      [10_000, 'ok'],
      [20_000, 'ok'],
    ]);
    await w.clock.advance(10_000);
    assert.deepEqual(firings(w.local).sort(), [10_000, 20_000, 30_000]);
    await s.stop?.();
  });

  it('of two firings whose claims failed, the earlier one too late by the time the store is back is recorded missed without moving last_fired back', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'job', intervalsec: 10 }]);
    await w.clock.advance(9_000);
    w.store.down = true;
    await w.clock.advance(31_500); // 40.5 s: 10 s is past the grace by the next retry, 20 to 40 s are not
    w.store.down = false;
    await w.clock.advance(1_000);
    assert.deepEqual(firings(w.local).sort(), [20_000, 30_000, 40_000]);
    assert.deepEqual((await runsOf(s, 'job')).map((r) => [r.firing_at - T0, r.status]).sort(), [
      [10_000, 'missed'],
      [20_000, 'ok'],
      [30_000, 'ok'],
      [40_000, 'ok'],
    ]);
    assert.equal(stored(w, 'job')?.ledger.last_fired, T0 + 40_000);
    await s.stop?.();
    // The next active fires none of them again.
    w.store.fence = 2;
    const next = await scheduler(w, 2, [{ id: 'job', intervalsec: 10 }]);
    await w.clock.advance(5_000);
    assert.deepEqual(firings(w.local).sort(), [20_000, 30_000, 40_000]);
    await next.stop?.();
  });

  it('a failed claim already counted in a missed record (the scheduler was held up past the grace) is not recorded again by its retry', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'job', intervalsec: 10 }]);
    await w.clock.advance(9_000);
    w.store.down = true;
    await w.clock.advance(10_500); // 19.5 s: the claim of 10 s and its retries failed
    w.store.down = false;
    w.skew = 40_000; // the timer for 20 s fires when the wall clock says 60 s
    await w.clock.advance(3_000);
    assert.deepEqual(
      (await runsOf(s, 'job')).map((r) => [r.firing_at - T0, r.status, r.count ?? 1]),
      [
        [10_000, 'missed', 2],
        [30_000, 'ok', 1],
        [40_000, 'ok', 1],
        [50_000, 'ok', 1],
        [60_000, 'ok', 1],
      ],
    );
    await s.stop?.();
  });

  it('a task whose schedule ended while no instance was active: the missed count stops at its last firing', async () => {
    const w = world();
    const first = await scheduler(w, 1, [{ id: 'ends', intervalsec: 10, dtstop: T0 + 25_000 }]);
    await first.stop?.();
    await w.clock.advance(100_000);
    const next = await scheduler(w, 2, [{ id: 'ends', intervalsec: 10, dtstop: T0 + 25_000 }]);
    await w.clock.advance(10_000);
    assert.deepEqual(
      (await runsOf(next, 'ends')).map((r) => [r.firing_at - T0, r.status, r.count]),
      [[10_000, 'missed', 2]],
    );
    assert.deepEqual(w.local.jobs, []);
    await next.stop?.();
  });

  it('run-now: a claim that cannot be saved is refused with the store’s error and not retried; run-now never moves last_fired', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'job', intervalsec: 60 }]);
    w.store.down = true;
    await assert.rejects(call(s, 'run-now', { id: 'job' }), /state store unreachable/);
    w.store.down = false;
    await w.clock.advance(5_000);
    assert.deepEqual(w.local.jobs, []);
    const [r] = await call(s, 'run-now', { id: 'job' });
    assert.deepEqual([r?.status, r?.trigger, r?.firing_at], ['ok', 'run-now', T0 + 5_000]);
    assert.equal(stored(w, 'job')?.ledger.last_fired, null);
    await w.clock.advance(55_000);
    assert.deepEqual(firings(w.local), [5_000, 60_000]);
    await s.stop?.();
  });

  it('a pending retry is dropped once the scheduler has stopped or the task was deleted; a stopped scheduler leaves no timer', async () => {
    const failAt60 = async (w: World, s: Behavior<SchedulerProtocol>) => {
      await w.clock.advance(59_000);
      w.store.down = true;
      await w.clock.advance(1_200);
      w.store.down = false;
      void s;
    };
    const w1 = world();
    const s1 = await scheduler(w1, 1, [{ id: 'hourly', intervalsec: 60 }]);
    await failAt60(w1, s1);
    await s1.stop?.();
    await w1.clock.advance(3_000);
    assert.deepEqual(w1.local.jobs, []);
    assert.equal(w1.clock.pending, 0);

    const w2 = world();
    const s2 = await scheduler(w2, 1, []);
    await call(s2, 'put', { task: { id: 'api', domain: DOMAIN, svcscriptcode: 'x', intervalsec: 60 } });
    await failAt60(w2, s2);
    await call(s2, 'delete', { id: 'api' });
    await w2.clock.advance(3_000);
    assert.deepEqual(w2.local.jobs, []);
    await s2.stop?.();
  });

  it('grace boundary: a timer that fires exactly grace_ms late, or a restart exactly grace_ms after a firing, still runs it', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'job', intervalsec: 10 }]);
    w.skew = 30_000; // the timer for 10 s fires when the wall clock says 40 s
    await w.clock.advance(10_000);
    assert.deepEqual(
      (await runsOf(s, 'job')).map((r) => [r.firing_at - T0, r.status]),
      [
        [10_000, 'ok'],
        [20_000, 'ok'],
        [30_000, 'ok'],
        [40_000, 'ok'],
      ],
    );
    await s.stop?.();

    const v = world();
    const first = await scheduler(v, 1, [{ id: 'job', intervalsec: 10 }]);
    await v.clock.advance(10_000);
    await first.stop?.();
    await v.clock.advance(40_000); // 50 s: the 20 s firing is exactly grace_ms old
    const next = await scheduler(v, 2, [{ id: 'job', intervalsec: 10 }]);
    await v.clock.advance(1);
    assert.deepEqual(
      (await runsOf(next, 'job')).map((r) => [r.firing_at - T0, r.status]),
      [
        [10_000, 'ok'],
        [20_000, 'ok'],
        [30_000, 'ok'],
        [40_000, 'ok'],
        [50_000, 'ok'],
      ],
    );
    await next.stop?.();
  });

  it('restart: a task never fired counts from when it was first scheduled; a file task dropped from the file is not listed but keeps its ledger; the file wins over a saved API task of the same id', async () => {
    const w = world();
    w.store.data.set(stateKey(DOMAIN, 'vanished'), undefined); // listed, then deleted before it is read
    const a = await scheduler(w, 1, [{ id: 't', intervalsec: 10 }]);
    await call(a, 'put', { task: { id: 'x', domain: DOMAIN, svcscriptcode: 'x', intervalsec: 3600 } });
    await w.clock.advance(5_000);
    await a.stop?.();
    await w.clock.advance(55_000); // 60 s
    const b = await scheduler(w, 2, [{ id: 'x', intervalsec: 3600 }]);
    assert.deepEqual(
      (await call(b, 'list', null)).map((t) => [t.id, t.source]),
      [['x', 'file']],
    );
    await b.stop?.();
    const c = await scheduler(w, 3, [{ id: 't', intervalsec: 10 }]);
    await w.clock.advance(1);
    // t was first scheduled at 0 s: 10 and 20 s are older than the grace (missed), 30 to 60 s are fired late.
    assert.deepEqual(
      (await runsOf(c, 't')).map((r) => [r.firing_at - T0, r.status, r.count ?? 1]),
      [
        [10_000, 'missed', 2],
        [30_000, 'ok', 1],
        [40_000, 'ok', 1],
        [50_000, 'ok', 1],
        [60_000, 'ok', 1],
      ],
    );
    assert.ok(!w.notices.some((n) => n.event === 'interrupted'), 'nothing was interrupted');
    await c.stop?.();
  });

  it('a disabled task never fires; a one-off task fires once at its time, one whose time had passed before it was scheduled never; nothing due leaves no timer', async () => {
    const w = world();
    const s = await scheduler(w, 1, [
      { id: 'off', intervalsec: 10, isenabled: false },
      { id: 'soon', isregular: false, dtstart: T0 + 5_000 },
      { id: 'past', isregular: false, dtstart: T0 - 60_000 },
    ]);
    await w.clock.advance(30_000);
    assert.deepEqual(
      w.local.jobs.map((j) => [j.task, j.firing_at - T0]),
      [['soon', 5_000]],
    );
    assert.deepEqual(
      (await call(s, 'list', null)).map((t) => [t.id, t.next_at, t.last_run?.status ?? null]),
      [
        ['off', null, null],
        ['soon', null, 'ok'],
        ['past', null, null],
      ],
    );
    assert.equal(w.clock.pending, 0);
    await s.stop?.();
  });

  it('a task added with an earlier firing than the timer’s is fired at its time', async () => {
    const w = world();
    const s = await scheduler(w, 1, [{ id: 'hourly', intervalsec: 3600 }]);
    await call(s, 'put', { task: { id: 'fast', domain: DOMAIN, svcscriptcode: 'x', intervalsec: 5 } });
    await w.clock.advance(5_000);
    assert.deepEqual(firings(w.local, 'fast'), [5_000]);
    await s.stop?.();
  });

  it('runs under way are counted per task and site: an overlapping task is running until its last run ends; a skipped firing is a warn notice with a record', async () => {
    const w = world();
    w.local.auto = false;
    w.remote.auto = false;
    const s = await scheduler(w, 1, [
      { id: 'lax', intervalsec: 10, overlap: true },
      { id: 'slow', intervalsec: 10 },
      { id: 'both', intervalsec: 10, sitemode: 'all' },
    ]);
    const running = async (id: string) => (await call(s, 'list', null)).find((t) => t.id === id)?.running;
    await w.clock.advance(20_000);
    assert.deepEqual(await running('lax'), ['west']);
    await assert.rejects(call(s, 'run-now', { id: 'both' }), {
      code: 'MW_ERR_TASK_OVERLAP',
      message: 'task both is still running on west, east and does not allow overlapping runs',
    });
    w.local.finishOne(); // lax @10 s
    await flushMicrotasks();
    assert.deepEqual(await running('lax'), ['west'], 'lax @20 s is still running');
    w.local.finishAll();
    w.remote.finishAll();
    await flushMicrotasks();
    assert.deepEqual([await running('lax'), await running('slow'), await running('both')], [[], [], []]);
    assert.deepEqual(
      w.notices.filter((n) => n.event === 'skipped' && n.data?.task === 'both').map((n) => n.message),
      ['task both: firing not run on west, east'],
    );
    assert.deepEqual(
      w.notices.filter((n) => n.event === 'skipped' && n.data?.task === 'slow'),
      [
        {
          type: 'notice',
          topic: TASKS_EVENT_TOPIC,
          event: 'skipped',
          level: 'warn',
          message: 'task slow: firing not run on west',
          data: { domain: DOMAIN, task: 'slow', statuses: ['skipped-overlap'] },
        },
      ],
    );
    assert.deepEqual(
      (await runsOf(s, 'slow')).find((r) => r.status === 'skipped-overlap'),
      {
        firing_at: T0 + 20_000,
        trigger: 'schedule',
        node: 'node-e1',
        epoch: 1,
        started_at: null,
        finished_at: T0 + 20_000,
        duration_ms: null,
        exit_code: null,
        output: '',
        site: 'west',
        status: 'skipped-overlap',
        error: 'the previous run is still going',
      },
    );
    await s.stop?.();
  });

  it('a run’s record: the outcome as the runner gave it, an unreachable runner as unreachable with its error; a run cut by stop is interrupted and stop waits for it', async () => {
    const w = world();
    w.remote.outcome = 'connect ECONNREFUSED 127.0.0.1:9';
    w.local.outcome = (job) =>
      job.task === 'near'
        ? { status: 'failed', exit_code: 2, duration_ms: 7, output: 'boom', error: 'exit code 2' }
        : ok(job);
    const s = await scheduler(w, 1, [
      { id: 'far', intervalsec: 10, sitemode: 'sites_any', sites: ['east'] },
      { id: 'near', intervalsec: 10 },
      { id: 'fine', intervalsec: 10 },
    ]);
    await w.clock.advance(10_000);
    const base = {
      firing_at: T0 + 10_000,
      trigger: 'schedule',
      started_at: T0 + 10_000,
      finished_at: T0 + 10_000,
      node: 'node-e1',
      epoch: 1,
    };
    assert.deepEqual(await runsOf(s, 'far'), [
      {
        ...base,
        site: 'east',
        status: 'unreachable',
        duration_ms: null,
        exit_code: null,
        output: '',
        error: 'connect ECONNREFUSED 127.0.0.1:9',
      },
    ]);
    assert.deepEqual(await runsOf(s, 'near'), [
      {
        ...base,
        site: 'west',
        status: 'failed',
        duration_ms: 7,
        exit_code: 2,
        output: 'boom',
        error: 'exit code 2',
      },
    ]);
    assert.deepEqual(await runsOf(s, 'fine'), [
      { ...base, site: 'west', status: 'ok', duration_ms: 1, exit_code: 0, output: 'ran fine@west' },
    ]);
    w.local.auto = false;
    await w.clock.advance(10_000);
    let stopped = false;
    const stopping = Promise.resolve(s.stop?.()).then(() => (stopped = true));
    await flushMicrotasks();
    assert.equal(stopped, false, 'stop waits for the runs under way');
    w.local.finishAll();
    await stopping;
    assert.deepEqual(
      (await runsOf(s, 'fine')).map((r) => [r.firing_at - T0, r.status, r.error]),
      [
        [10_000, 'ok', undefined],
        [20_000, 'interrupted', 'the scheduler stopped during the run'],
      ],
    );
  });
});

describe('runners', () => {
  const job = (code: string, deadline_ms = 5_000): Job => ({
    task: 't1',
    name: 'n',
    domain: DOMAIN,
    site: 'west',
    firing_at: T0,
    code,
    deadline_ms,
  });

  it('feeds the code on stdin with the firing in the environment, keeps the output tail and the exit code', async () => {
    const r = await runJob(
      { command: ['/bin/sh'] },
      job('echo "$MW_TASK_ID $MW_FIRING_AT"; echo err >&2; exit 3'),
    );
    assert.equal(r.status, 'failed');
    assert.equal(r.exit_code, 3);
    assert.match(r.output, /t1 2026-03-02T10:00:00.000Z/);
    assert.match(r.output, /err/);
  });

  it('kills a run at its deadline, children too', async () => {
    const started = Date.now();
    const r = await runJob({ command: ['/bin/sh'] }, job('sleep 30 & sleep 30; echo never', 300));
    assert.equal(r.status, 'timeout');
    assert.ok(Date.now() - started < 3_000, 'it did not wait for the children');
    assert.doesNotMatch(r.output, /never/);
  });

  it('HTTP: POSTs the job as JSON with the bearer token; a non-2xx answer is a failed run, a silent one a timeout', async () => {
    const got: { auth: string | undefined; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        got.push({ auth: req.headers.authorization, body });
        if (body.code === 'hang') return; // never answers
        res.writeHead(body.code === 'boom' ? 500 : 200).end(`done ${String(body.task)}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/run`;
    try {
      const ok = await runJob({ url, token: 'tok-1' }, job('echo'), undefined, 'mware7');
      assert.deepEqual([ok.status, ok.exit_code, ok.output], ['ok', 200, 'done t1']);
      assert.equal(got[0]?.auth, 'Bearer tok-1');
      assert.deepEqual(got[0]?.body, {
        task: 't1',
        name: 'n',
        domain: DOMAIN,
        site: 'west',
        firing_at: '2026-03-02T10:00:00.000Z',
        code: 'echo',
        node: 'mware7',
      });
      const boom = await runJob({ url }, job('boom'));
      assert.deepEqual([boom.status, boom.exit_code], ['failed', 500]);
      const hang = await runJob({ url }, job('hang', 200));
      assert.equal(hang.status, 'timeout');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('re-emits a script’s output lines as log records with their source, at most a budget per run, without slowing a noisy script', async () => {
    const records: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const log = {
      info: (obj: Record<string, unknown>, msg: string) => records.push({ level: 'info', obj, msg }),
      warn: (obj: Record<string, unknown>, msg: string) => records.push({ level: 'warn', obj, msg }),
    } as unknown as Log;
    const output = childOutputLog(log, { source: 'svctask', task: 't1' }, 100);
    const started = Date.now();
    const r = await runJob(
      { command: ['/bin/sh'] },
      job('echo oops >&2; sleep 0.2; i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done'),
      undefined,
      'n1',
      output,
    );
    assert.equal(r.status, 'ok');
    assert.ok(Date.now() - started < 4_000, 'the noisy script was not held up');
    assert.match(r.output, /line 19999\n$/);
    const lines = records.filter((x) => x.obj.stream !== undefined);
    assert.equal(lines.length, 100);
    assert.deepEqual(
      records.find((x) => x.msg === 'oops'),
      { level: 'warn', obj: { source: 'svctask', task: 't1', stream: 'stderr' }, msg: 'oops' },
    );
    assert.ok(lines.some((x) => x.obj.stream === 'stdout' && x.msg === 'line 0' && x.level === 'info'));
    const summary = records.at(-1);
    assert.equal(summary?.obj.dropped, 20_001 - 100);
  });
});
