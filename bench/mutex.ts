// Mutex lock+unlock round trips in-process, through a real node's mutex service, per state_mode.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { silentLogger } from '../src/log/log.ts';
import { MwareNode } from '../src/node/node.ts';
import type { StateMode } from '../topology/schema.ts';
import { tempDir } from '../test/harness/temp.ts';
import { fmt, median, report } from './stats.ts';

const DURATION_MS = Number(process.env.BENCH_MS ?? 1_500);
const TRIALS = 3;

async function withNode<T>(mode: StateMode, fn: (node: MwareNode) => Promise<T>): Promise<T> {
  const d = tempDir('bench-mutex');
  const doc = parse(readFileSync(new URL('../config/topology.example.yaml', import.meta.url), 'utf8')) as {
    roles: { state_mode: string }[];
  };
  doc.roles[0]!.state_mode = mode;
  writeFileSync(join(d.path, 't.yaml'), stringify(doc));
  const node = await MwareNode.start({
    topologyFile: join(d.path, 't.yaml'),
    dataDir: join(d.path, 'data'),
    log: silentLogger(),
  });
  try {
    return await fn(node);
  } finally {
    await node.stop();
    d.cleanup();
  }
}

/** lock+unlock cycles per second by `clients` concurrent clients, each on its own key. */
async function cycles(node: MwareNode, clients: number): Promise<number> {
  let done = 0;
  const end = performance.now() + DURATION_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const key = `bench-${c}`;
      const owner = `client-${c}`;
      while (performance.now() < end) {
        const r = await node.mutex.lock(key, { owner, hold_ms: 10_000 });
        if (!r.granted) throw new Error('not granted');
        await node.mutex.unlock(key, { owner, token: r.token });
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

for (const mode of ['none', 'transactional'] as const) {
  await withNode(mode, async (node) => {
    await cycles(node, 1); // warm-up
    for (const clients of [1, 64]) {
      const runs: number[] = [];
      for (let t = 0; t < TRIALS; t++) runs.push(await cycles(node, clients));
      const v = median(runs);
      const durable = mode === 'transactional' ? ', each change fdatasync-ed before it is acknowledged' : '';
      const isTarget = mode === 'none';
      report(
        `mutex lock+unlock in-process, state_mode ${mode}${durable}, ${clients} client(s)`,
        `${fmt(v)} cycles/s`,
        isTarget ? '>= 100,000/s' : undefined,
        isTarget ? v >= 100_000 : undefined,
      );
    }
  });
}
