// Node start-up: `mware start` as a process, from spawn to "node active" (median of several starts), for the
// example topology and for one with 10,000 domains.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { MWARE_BIN, PROJECT_ROOT } from '../test/harness/node.ts';
import { tempDir } from '../test/harness/temp.ts';
import { fmt, median, report } from './stats.ts';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 5);

/** Wall time to the "node active" line, and the node's own measure of its start (topology to active). */
function startOnce(topology: string, dataDir: string): Promise<{ wall: number; inside: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [MWARE_BIN, 'start', '--topology', topology, '--data-dir', dataDir], {
      cwd: PROJECT_ROOT,
    });
    let buf = '';
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const line = buf.split('\n').find((l) => l.includes('"node active"'));
      if (line && p.signalCode === null && !p.killed) {
        const wall = performance.now() - t0;
        const inside = (JSON.parse(line) as { ms: number }).ms;
        p.kill('SIGTERM');
        p.once('exit', () => resolve({ wall, inside }));
      }
    });
    p.once(
      'exit',
      (code) =>
        code !== null && code !== 0 && reject(new Error(`mware exited ${code}: ${err}${buf.slice(-2000)}`)),
    );
  });
}

async function series(label: string, topology: string, target: boolean) {
  const d = tempDir('bench-startup');
  const runs: { wall: number; inside: number }[] = [];
  for (let i = 0; i < TRIALS; i++) runs.push(await startOnce(topology, join(d.path, `data${i}`)));
  const wall = median(runs.map((r) => r.wall));
  const inside = median(runs.map((r) => r.inside));
  const name = `start-up to active, ${label}: process spawn → active (includes Node and TypeScript loading)`;
  if (target) report(name, `${fmt(wall)} ms`, '< 2,000 ms', wall < 2_000);
  else report(name, `${fmt(wall)} ms`);
  report(`start-up to active, ${label}: inside the node (topology loaded → active)`, `${fmt(inside)} ms`);
  d.cleanup();
}

const example = new URL('../config/topology.example.yaml', import.meta.url).pathname;
await series('embedded example', example, true);

const d = tempDir('bench-startup-big');
const doc = parse(readFileSync(example, 'utf8')) as { domains: string[] };
doc.domains = ['rootdomain.ru', ...Array.from({ length: 9_999 }, (_, i) => `d${i}.rootdomain.ru`)];
writeFileSync(join(d.path, 'big.yaml'), stringify(doc));
await series('10,000 domains', join(d.path, 'big.yaml'), false);
d.cleanup();
