// Run by memory.test.ts with --expose-gc: starts idle in-memory actors under a dynamic supervisor, as /domains and
// /mutexes hold them, and prints the heap each one costs as JSON. argv: how many actors of each kind.
import { domainActor } from '../../actors/domain/domain-actor.ts';
import { MutexService } from '../../actors/mutex/mutex-service.ts';
import { actorChild } from '../../src/actor-system/actor-child.ts';
import { silentLogger } from '../../src/log/log.ts';
import { systemClock } from '../../src/supervision/clock.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
import { mutexesChild } from '../../supervisors/mutexes.ts';
import { actorWorld, newComedy } from '../support/actor-world.ts';

const COUNT = Number(process.argv[2] ?? 2_000);
const WARM_UP = 100;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function heapUsed(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 10));
  }
  return process.memoryUsage().heapUsed;
}

const comedy = newComedy();
const w = actorWorld(comedy, { record: false });

const domains = new Supervisor('/domains', compileFlags({ strategy: 'simple_one_for_one' }), [], w.env);
await domains.start();
const startDomains = async (from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const domain = `d${i}.rootdomain.ru`;
    await domains.startChild(
      actorChild(w.runtime, {
        id: domain,
        kind: domainActor,
        args: { domain, parent: 'rootdomain.ru', site: 'main', group: 1 },
        mode: 'in-memory',
      }),
    );
  }
};
// The first actors of a kind also pay for code and shapes made once: they are not counted.
await startDomains(0, WARM_UP);
let before = await heapUsed();
await startDomains(WARM_UP, WARM_UP + COUNT);
const domain = (await heapUsed()) - before;

// Mutexes that were locked and unlocked: idle, waiting for their idle timeout.
const mutex = new MutexService({
  runtime: w.runtime,
  mode: 'in-memory',
  epoch: () => 1,
  ownsKey: () => true,
  leading: () => true,
  log: silentLogger(),
  clock: systemClock,
  idleMs: 3_600_000,
  maxKeys: 1_000_000,
});
const root = new Supervisor('/', compileFlags(), [mutexesChild(mutex, [])], w.env);
await root.start();
const useKeys = async (from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const key = `key-${i}`;
    const grant = await mutex.lock(key, { owner: `owner-${i}` });
    if (grant.granted) await mutex.unlock(key, { owner: `owner-${i}`, token: grant.token });
  }
};
await useKeys(0, WARM_UP);
before = await heapUsed();
await useKeys(WARM_UP, WARM_UP + COUNT);
const idleMutex = (await heapUsed()) - before;

process.stdout.write(
  JSON.stringify({
    domain: domain / COUNT,
    idleMutex: idleMutex / COUNT,
    live: w.env.directory.size,
  }) + '\n',
);
mutex.detach();
await root.stop('infinity');
await domains.stop('infinity');
await comedy.destroy();
