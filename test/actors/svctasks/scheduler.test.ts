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
import type { SchedulerArgs } from '../../../actors/svctasks/scheduler-actor.ts';
import { schedulerActor } from '../../../actors/svctasks/scheduler-actor.ts';
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
  access(epoch: () => number): StateAccess {
    const check = () => {
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
  constructor(public auto = true) {}
  run = (job: Job): Promise<JobOutcome> => {
    this.jobs.push(job);
    if (this.auto) return Promise.resolve(ok(job));
    return new Promise((r) => this.waiting.push(r));
  };
  finishAll(): void {
    for (const r of this.waiting.splice(0)) r({ status: 'ok', exit_code: 0, duration_ms: 5, output: 'late' });
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
    skew: 0,
  };
}

async function scheduler(
  w: World,
  epoch: number,
  fileTasks: Record<string, unknown>[],
): Promise<Behavior<SchedulerProtocol>> {
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
    log: createLogger({ level: 'silent' }),
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
      (await runsOf(s, 'eastonly')).map((r) => r.status),
      ['ok', 'no-site'],
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
    await assert.rejects(call(s, 'run-now', { id: 'slow' }), { code: 'MW_ERR_TASK_OVERLAP' });
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
    assert.ok(w.notices.some((n) => n.event === 'interrupted'));
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
