// Restart latency of supervised actors: from the crash to the new incarnation running (p50/p99).
// Backoff is set to restart at once (resetAfterMs 0): this measures the restart itself, not the backoff policy.
import { actorChild } from '../src/actor-system/actor-child.ts';
import { ActorRef } from '../src/actor-system/actor-ref.ts';
import type { ActorMode } from '../src/supervision/events.ts';
import { compileFlags } from '../src/supervision/spec.ts';
import { Supervisor } from '../src/supervision/supervisor.ts';
import type { EchoProtocol } from './echo-actor.ts';
import { echoActor } from './echo-actor.ts';
import { fmt, percentile, report } from './stats.ts';
import { actorWorld, newComedy } from '../test/support/actor-world.ts';

const comedy = newComedy();

/** `pausesMs[i % length]` before the i-th crash. */
async function measure(
  mode: ActorMode,
  trials: number,
  pausesMs: readonly number[],
  crash: (ref: ActorRef<EchoProtocol>) => Promise<void>,
): Promise<number[]> {
  const w = actorWorld(comedy, { record: false, liveness: { intervalMs: 60_000, timeoutMs: 60_000 } });
  const events = w.env.events;
  w.runtime.state = {
    durable: false,
    load: async () => undefined,
    save: async () => undefined,
    delete: async () => undefined,
    keys: async () => [],
  };
  const sup = new Supervisor(
    '/',
    compileFlags({ intensity: 100_000, periodMs: 1_000, backoff: { resetAfterMs: 0 } }),
    [actorChild(w.runtime, { id: 'a', kind: echoActor, args: null, mode })],
    w.env,
  );
  await sup.start();
  const ref = new ActorRef<EchoProtocol>('/a', w.env.directory);
  await ref.ask('inc', 1);
  const samples: number[] = [];
  for (let i = 0; i < trials; i++) {
    const pauseMs = pausesMs[i % pausesMs.length] ?? 0;
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    const restarted = new Promise<number>((resolve) => {
      const off = events.subscribe((e) => {
        if (e.type === 'restarted') {
          off();
          resolve(performance.now());
        }
      });
    });
    const t0 = performance.now();
    await crash(ref);
    samples.push((await restarted) - t0);
    await ref.ask('inc', 1); // it answers again
  }
  await sup.stop('infinity');
  return samples;
}

const throwIn = async (ref: ActorRef<EchoProtocol>) => {
  await ref.ask('crash', null).catch(() => undefined);
};
const sigkill = async (ref: ActorRef<EchoProtocol>) => {
  process.kill(await ref.ask('pid', null), 'SIGKILL');
};

const mem = await measure('in-memory', 500, [0], throwIn);
if (process.env.BENCH_DETAIL)
  console.log(
    'in-memory samples (ms), slowest:',
    [...mem]
      .sort((a, b) => b - a)
      .slice(0, 12)
      .map((x) => x.toFixed(2))
      .join(' '),
    ' first ten:',
    mem
      .slice(0, 10)
      .map((x) => x.toFixed(2))
      .join(' '),
  );
report(
  'restart latency, in-memory (exception in handler → running again), p50',
  `${fmt(percentile(mem, 50), 2)} ms`,
  '<= 5 ms',
  percentile(mem, 50) <= 5,
);
report(
  'restart latency, in-memory, p99',
  `${fmt(percentile(mem, 99), 2)} ms`,
  '<= 5 ms',
  percentile(mem, 99) <= 5,
);

// Spare processes are kept ready for forked actors (two, each replaced as soon as it is taken). Every figure below
// is the p99 of all the crashes of its run, slowest included.
const forkedTarget = (name: string, samples: number[]) => {
  report(
    `${name}, p50`,
    `${fmt(percentile(samples, 50), 1)} ms`,
    '<= 300 ms',
    percentile(samples, 50) <= 300,
  );
  report(
    `${name}, p99`,
    `${fmt(percentile(samples, 99), 1)} ms`,
    '<= 300 ms',
    percentile(samples, 99) <= 300,
  );
};
const detail = (name: string, samples: number[]) => {
  if (process.env.BENCH_DETAIL)
    console.log(`${name} samples (ms):`, samples.map((x) => x.toFixed(1)).join(' '));
};

// Crashes 1.5 s apart: a taken spare has been replaced by the next crash.
const forked = await measure('forked', 30, [1_500], sigkill);
detail('forked, 1.5 s apart', forked);
forkedTarget('restart latency, forked (SIGKILL → running again, crashes 1.5 s apart)', forked);

// Crashes in pairs 300 ms apart (then 2 s of quiet): the second of a pair finds the second spare.
const pairs = await measure('forked', 30, [2_000, 300], sigkill);
detail('forked, in pairs', pairs);
forkedTarget('restart latency, forked, two crashes within a second (pairs 300 ms apart)', pairs);

// Back to back, beyond what the spares cover: from the third crash on, the spare handed out is still booting.
const fresh = await measure('forked', 10, [2_000, 0, 0, 0, 0, 0, 0, 0, 0, 0], sigkill);
detail('forked, back to back', fresh);
report(
  'restart latency, forked, ten back to back (spares still booting), p50 / p99',
  `${fmt(percentile(fresh, 50), 1)} / ${fmt(percentile(fresh, 99), 1)} ms`,
);
await comedy.destroy();
