import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

/**
 * What an idle in-memory actor costs in heap, pinned with a margin: a node holds tens of thousands of them (a
 * domain each, a mutex per live key). Measured in a process of its own (memory.child.ts, with --expose-gc), so
 * that nothing else this suite runs is counted. Erlang's process is ≈2.6 KB, Akka's actor ≈300 B.
 */

const ACTORS = 2_000;
const BOUND = 2_048;

function measure(): { domain: number; idleMutex: number; live: number } {
  const script = new URL('./memory.child.ts', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(ACTORS)], {
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.status, 0, `memory.child.ts failed (signal ${r.signal ?? 'none'}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as { domain: number; idleMutex: number; live: number };
}

describe('memory per idle in-memory actor', () => {
  it(`is under ${BOUND} B of heap for a domain actor and for an idle mutex actor, at ${ACTORS} of each`, () => {
    const m = measure();
    assert.ok(m.live > 2 * ACTORS, `the actors were all alive when measured (${m.live})`);
    assert.ok(m.domain > 0 && m.idleMutex > 0, `something was measured: ${JSON.stringify(m)}`);
    assert.ok(m.domain < BOUND, `a domain actor costs ${Math.round(m.domain)} B of heap`);
    assert.ok(m.idleMutex < BOUND, `an idle mutex actor costs ${Math.round(m.idleMutex)} B of heap`);
  });
});
