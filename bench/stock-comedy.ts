// Bare comedy exactly as it ships (its bluebird on setImmediate), for the baseline: run in its own process so
// that nothing of mware is loaded. Prints req-replies/s, sequential and pipelined.
import { bareEcho } from './bare-comedy.ts';

const N = Number(process.env.BENCH_N ?? 200_000);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 7);
const bare = await bareEcho();
const ask = () => bare.inc(1);
async function seq() {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await ask();
  return N / ((performance.now() - t0) / 1000);
}
async function pipe() {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next++ < N) await ask();
    }),
  );
  return N / ((performance.now() - t0) / 1000);
}
await seq();
await pipe();
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const s: number[] = [];
const p: number[] = [];
for (let t = 0; t < TRIALS; t++) {
  s.push(await seq());
  p.push(await pipe());
}
console.log(JSON.stringify({ sequential: med(s), pipelined: med(p) }));
process.exit(0);
