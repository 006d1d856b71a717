import { Redis } from 'ioredis';
import type { Job, JobOutcome } from '../actors/svctasks/runner.ts';
import { schedulerActor } from '../actors/svctasks/scheduler-actor.ts';
import type { TaskSites } from '../actors/svctasks/sites.ts';
import { SvcTask } from '../actors/svctasks/task.ts';
import type { StateAccess } from '../src/actor-system/incarnation.ts';
import type { ActorContext } from '../src/actor-system/kind.ts';
import { RedisKeys } from '../src/coordination/keys.ts';
import { createLogger } from '../src/log/log.ts';
import { RedisStateStore } from '../src/state/redis-store.ts';
import { systemClock } from '../src/supervision/clock.ts';
import { SvcTasks } from '../topology/schema.ts';
import { startRedis } from '../test/harness/redis.ts';
import { fmt, percentile, report } from './stats.ts';

/**
 * Scheduler cost with 10,000 tasks in one domain's scheduler (real clock, a runner that answers at once, so what is
 * measured is the scheduler: timetable, sitemode, the fenced claim and the outcome write):
 * - start: restoring and arming 10,000 tasks;
 * - 10,000 tasks every 60 s (≈167 firings/s, a realistic load): CPU of the process and lateness of firings;
 * - 10,000 tasks every 1 s (10,000 firings/s, a stress): firings done per second, lateness, CPU.
 * Each with the state in memory, then in a real Redis (two fenced writes per firing: the claim and the outcome).
 */

const N = 10_000;
const DOMAIN = 'bench.rootdomain.ru';

function memoryState(): StateAccess {
  const m = new Map<string, unknown>();
  return {
    durable: true,
    load: async (k) => m.get(k),
    save: async (k, v) => void m.set(k, v),
    delete: async (k) => void m.delete(k),
    keys: async (p) => [...m.keys()].filter((k) => k.startsWith(p)),
  };
}

async function scenario(
  label: string,
  state: StateAccess,
  intervalsec: number,
  seconds: number,
): Promise<void> {
  const late: number[] = [];
  let runs = 0;
  const runLocal = async (job: Job): Promise<JobOutcome> => {
    late.push(Date.now() - job.firing_at);
    runs++;
    return { status: 'ok', exit_code: 0, duration_ms: 0, output: '' };
  };
  const sites: TaskSites = {
    known: ['main'],
    live: async () => new Set(['main']),
    runRemote: (_s, job) => runLocal(job),
  };
  const fileTasks = Array.from({ length: N }, (_, i) =>
    SvcTask.parse({ id: `t${i}`, domain: DOMAIN, svcscriptcode: 'x', intervalsec, dtstart: i * 7 }),
  );
  const ctx = {
    path: `/svctasks/${DOMAIN}`,
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
  } as unknown as ActorContext;
  const t0 = performance.now();
  const actor = await schedulerActor.create(
    {
      domain: DOMAIN,
      site: 'main',
      node: 'bench',
      config: SvcTasks.parse({ runner: { command: ['/bin/true'] }, keep_runs: 5 }),
      fileTasks,
      state,
      epoch: () => 1,
      sites,
      runLocal,
      notify: () => undefined,
    },
    ctx,
  );
  const startMs = performance.now() - t0;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await actor.stop?.();
  const cpuPct = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
  report(`${label}: start with ${fmt(N)} tasks`, `${fmt(startMs)} ms`);
  report(
    `${label}: ${fmt(N)} tasks every ${intervalsec} s`,
    `${fmt(runs / wall)} firings/s, lateness p50 ${fmt(percentile(late, 50))} ms p99 ${fmt(percentile(late, 99))} ms, CPU ${fmt(cpuPct, 1)} % of a core`,
  );
}

await scenario('memory', memoryState(), 60, 10);
await scenario('memory', memoryState(), 1, 5);

const redis = await startRedis();
const client = new Redis(redis.url, { lazyConnect: false });
try {
  const store = new RedisStateStore(client, new RedisKeys('bench'), 1, () => 0);
  const state: StateAccess = {
    durable: true,
    load: async (k) => (await store.load(k))?.value,
    save: (k, v) => store.save(k, v, 1),
    delete: (k) => store.delete(k, 1),
    keys: (p) => store.keys(p),
  };
  await scenario('redis', state, 60, 10);
  await client.flushall();
  await scenario('redis', state, 1, 5);
} finally {
  client.disconnect();
  await redis.stop();
}
