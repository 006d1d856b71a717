// Memory per domain actor and per mutex actor (holding a lock, then idle), at 10,000 of each (run with --expose-gc).
import { MutexService } from '../actors/mutex/mutex-service.ts';
import { domainActor } from '../actors/domain/domain-actor.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import { silentLogger } from '../src/log/log.ts';
import { FileStateStore } from '../src/state/file-store.ts';
import { createPersistence } from '../src/state/persistence.ts';
import { mutexesChild } from '../supervisors/mutexes.ts';
import { systemClock } from '../src/supervision/clock.ts';
import { compileFlags } from '../src/supervision/spec.ts';
import { Supervisor } from '../src/supervision/supervisor.ts';
import { tempDir } from '../test/harness/temp.ts';
import { fmt, report } from './stats.ts';
import { actorWorld, newComedy } from '../test/support/actor-world.ts';

const COUNT = Number(process.env.BENCH_ACTORS ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function settled(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const log = silentLogger();
const w = actorWorld(newComedy(), { record: false });
const { env, runtime } = w;
const comedy = runtime.comedy;
const dir = tempDir('bench-memory');
const store = await FileStateStore.open({ dir: dir.path, fsync: false });
const persistence = createPersistence('transactional', store, () => 1, systemClock, log);
runtime.state = persistence;

// Domain actors under a dynamic supervisor, as /domains holds them.
const domains = new Supervisor('/domains', compileFlags({ strategy: 'simple_one_for_one' }), [], env);
await domains.start();
const before = await settled();
let t0 = performance.now();
for (let i = 0; i < COUNT; i++) {
  const domain = `d${i}.rootdomain.ru`;
  await domains.startChild(
    actorChild(runtime, {
      id: domain,
      kind: domainActor,
      args: { domain, parent: 'rootdomain.ru', site: 'main', group: 1 },
      mode: 'in-memory',
    }),
  );
}
const startMs = performance.now() - t0;
const withDomains = await settled();
report(
  `memory per domain actor at ${fmt(COUNT)}`,
  `${fmt((withDomains.heap - before.heap) / COUNT)} bytes of heap, ${fmt((withDomains.rss - before.rss) / COUNT)} bytes of RSS`,
);
report(`start ${fmt(COUNT)} domain actors, one after another`, `${fmt(startMs)} ms`);

// Mutex actors, each holding a lock so that none goes idle.
const mutex = new MutexService({
  runtime,
  mode: 'in-memory',
  epoch: () => 1,
  ownsKey: () => true,
  leading: () => true,
  log,
  clock: systemClock,
  idleMs: 3_600_000,
  // Above the count, so that idle keys wait for their idle timeout rather than stop at once under pressure.
  maxKeys: COUNT * 2,
});
const root = new Supervisor('/', compileFlags(), [mutexesChild(mutex, [])], env);
await root.start();
const beforeMutexes = await settled();
t0 = performance.now();
const tokens: number[] = [];
for (let i = 0; i < COUNT; i += 100) {
  const grants = await Promise.all(
    Array.from({ length: 100 }, (_, j) =>
      mutex.lock(`key-${i + j}`, { owner: `owner-${i + j}`, hold_ms: 3_600_000 }),
    ),
  );
  for (const g of grants) tokens.push(g.granted ? g.token : NaN);
}
const lockMs = performance.now() - t0;
const withMutexes = await settled();
report(
  `memory per mutex actor at ${fmt(COUNT)} (each holding a lock)`,
  `${fmt((withMutexes.heap - beforeMutexes.heap) / COUNT)} bytes of heap, ${fmt((withMutexes.rss - beforeMutexes.rss) / COUNT)} bytes of RSS`,
);
report(
  `create ${fmt(COUNT)} mutex actors by first lock, 100 at a time (transactional, journal without fsync)`,
  `${fmt(lockMs)} ms`,
);

// The same actors once unlocked: idle, waiting for their idle timeout.
for (let i = 0; i < COUNT; i += 100) {
  await Promise.all(
    Array.from({ length: 100 }, (_, j) =>
      mutex.unlock(`key-${i + j}`, { owner: `owner-${i + j}`, token: tokens[i + j] as number }),
    ),
  );
}
const idleMutexes = await settled();
report(
  `memory per mutex actor at ${fmt(COUNT)}, idle (locked, then unlocked)`,
  `${fmt((idleMutexes.heap - beforeMutexes.heap) / COUNT)} bytes of heap, ${fmt((idleMutexes.rss - beforeMutexes.rss) / COUNT)} bytes of RSS`,
);

t0 = performance.now();
mutex.detach();
await root.stop('infinity');
await domains.stop('infinity');
report(`stop ${fmt(COUNT * 2)} actors`, `${fmt(performance.now() - t0)} ms`);
await store.close();
await comedy.destroy();
dir.cleanup();
