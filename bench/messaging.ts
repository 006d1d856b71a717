// Supervised in-memory request-reply vs bare comedy, in the same run (alternating trials; medians). The bare
// actor runs in this process on the same comedy (with mware's bluebird scheduler), so the ratio is the cost of
// the supervision layer alone; stock comedy, untouched, is measured in its own process for reference.
import { execFileSync } from 'node:child_process';
import { actorChild } from '../src/actor-system/actor-child.ts';
import { ActorRef } from '../src/actor-system/actor-ref.ts';
import { compileFlags } from '../src/supervision/spec.ts';
import { Supervisor } from '../src/supervision/supervisor.ts';
import type { EchoProtocol } from './echo-actor.ts';
import { bareEcho } from './bare-comedy.ts';
import { echoActor } from './echo-actor.ts';
import { fmt, median, report } from './stats.ts';
import { actorWorld, newComedy } from '../test/support/actor-world.ts';

const N = Number(process.env.BENCH_N ?? 300_000);
/** Pipelined runs go faster; more messages keep each run long enough to measure. */
const N_PIPELINED = N * 4;
const TRIALS = Number(process.env.BENCH_TRIALS ?? 11);
const PIPELINE = 64;

const w = actorWorld(newComedy(), { record: false });
const sup = new Supervisor(
  '/',
  compileFlags(),
  [actorChild(w.runtime, { id: 'echo', kind: echoActor, args: null, mode: 'in-memory' })],
  w.env,
);
await sup.start();
const ref = new ActorRef<EchoProtocol>('/echo', w.env.directory);

// Bare comedy: the same handler as a comedy actor, called through comedy's own API.
const bare = await bareEcho();

async function sequential(ask: () => PromiseLike<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await ask();
  return N / ((performance.now() - t0) / 1000);
}

async function pipelined(ask: () => PromiseLike<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < N_PIPELINED) await ask();
  };
  await Promise.all(Array.from({ length: PIPELINE }, worker));
  return N_PIPELINED / ((performance.now() - t0) / 1000);
}

const stock = JSON.parse(
  execFileSync(
    process.execPath,
    ['--import', 'tsx', new URL('./stock-comedy.ts', import.meta.url).pathname],
    { encoding: 'utf8' },
  ),
) as { sequential: number; pipelined: number };
report(
  'in-memory ask, sequential: stock comedy (own process, bluebird on setImmediate)',
  `${fmt(stock.sequential)} req-replies/s`,
);
report('in-memory ask, pipelined x64: stock comedy (own process)', `${fmt(stock.pipelined)} req-replies/s`);

const supAsk = () => ref.ask('inc', 1);
const bareAsk = () => bare.inc(1);
// Warm up both paths (JIT) before measuring.
for (const run of [sequential, pipelined]) {
  await run(supAsk);
  await run(bareAsk);
}

for (const [label, run] of [
  ['sequential', sequential],
  [`pipelined x${PIPELINE}`, pipelined],
] as const) {
  const s: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    // Each trial pairs one run of each, in alternating order, so drift (GC, JIT, the machine) hits both alike.
    const first = t % 2 === 0 ? [bareAsk, supAsk] : [supAsk, bareAsk];
    const [x, y] = [
      await run(first[0] as () => PromiseLike<unknown>),
      await run(first[1] as () => PromiseLike<unknown>),
    ];
    const [bv, sv] = t % 2 === 0 ? [x, y] : [y, x];
    b.push(bv);
    s.push(sv);
    ratios.push(sv / bv);
  }
  const ratio = median(ratios);
  report(`in-memory ask, ${label}: bare comedy`, `${fmt(median(b))} req-replies/s`);
  report(`in-memory ask, ${label}: supervised (mware)`, `${fmt(median(s))} req-replies/s`);
  report(
    `in-memory ask, ${label}: ratio supervised/bare (median of ${TRIALS} paired trials; range ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`,
    fmt(ratio, 2),
    '>= 0.8',
    ratio >= 0.8,
  );
}

await sup.stop('infinity');
await w.runtime.comedy.destroy();
await bare.destroy();
