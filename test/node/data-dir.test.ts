import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { silentLogger } from '../../src/log/log.ts';
import { MwareNode } from '../../src/node/node.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { exampleTopology } from '../harness/node.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * A node's data directory: one node at a time (02-runtime.md), an epoch that never goes back, state that holds only
 * what is held, and fencing tokens that increase per key in every state mode.
 */

const FILES = tempDir('data-dir-topologies');
after(() => FILES.cleanup());
const code = (e: unknown) => (e as { code?: string }).code;

/** The example topology with `state_mode` set. */
async function topology(stateMode: 'none' | 'periodic' | 'transactional'): Promise<string> {
  const doc = (await exampleTopology()).topology as { roles: { state_mode?: string }[] };
  const copy = parse(stringify(doc)) as typeof doc;
  for (const r of copy.roles) r.state_mode = stateMode;
  const file = join(FILES.path, `${stateMode}.yaml`);
  writeFileSync(file, stringify(copy));
  return file;
}

async function withDataDir(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const d = tempDir('data-dir');
  try {
    await fn(join(d.path, 'data'));
  } finally {
    d.cleanup();
  }
}

const start = async (
  dataDir: string,
  stateMode: 'none' | 'transactional' = 'transactional',
  mutexIdleMs?: number,
) => MwareNode.start({ topologyFile: await topology(stateMode), dataDir, log: silentLogger(), mutexIdleMs });

/** Waits until `cond` holds, failing after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = performance.now() + ms; !cond();) {
    if (performance.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('one node per data directory', () => {
  for (const [what, content] of [
    ['empty (its writer not yet done)', ''],
    ['half written', '{"pid": 12'],
    ['naming a process that is gone', JSON.stringify({ pid: 999_999_999, holder: 'mware1' })],
  ] as const) {
    it(`refuses a second node while the first runs, its lock file ${what}`, () =>
      withDataDir(async (dataDir) => {
        const first = await start(dataDir);
        try {
          writeFileSync(join(dataDir, 'node.lock'), content);
          await assert.rejects(start(dataDir), (e) => code(e) === 'MW_ERR_DATA_DIR_LOCKED');
          assert.equal(first.state, 'active');
        } finally {
          await first.stop();
        }
      }));
  }

  it('starts over a lock file left by a node that died, even one naming a live process (a reused pid)', () =>
    withDataDir(async (dataDir) => {
      await (await start(dataDir)).stop();
      // pid 1 is alive and is no mware node: a process id says nothing about who holds the directory.
      writeFileSync(
        join(dataDir, 'node.lock'),
        JSON.stringify({ pid: 1, nonce: 'another', holder: 'mware1' }),
      );
      const node = await start(dataDir);
      assert.equal(node.epoch, 2);
      await node.stop();
    }));

  it('lets several nodes race for one directory: exactly one wins', () =>
    withDataDir(async (dataDir) => {
      const file = await topology('transactional');
      const tries = await Promise.allSettled(
        Array.from({ length: 4 }, () =>
          MwareNode.start({ topologyFile: file, dataDir, log: silentLogger() }),
        ),
      );
      const won = tries.filter((t) => t.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const t of tries)
        if (t.status === 'rejected') assert.equal(code(t.reason), 'MW_ERR_DATA_DIR_LOCKED', String(t.reason));
      await (won[0] as PromiseFulfilledResult<MwareNode>).value.stop();
    }));

  it('refuses to start on an epoch file it cannot read, rather than count fencing epochs from zero', () =>
    withDataDir(async (dataDir) => {
      await (await start(dataDir)).stop();
      writeFileSync(join(dataDir, 'epoch'), 'garbage');
      await assert.rejects(start(dataDir), (e) => code(e) === 'MW_ERR_EPOCH_UNREADABLE');
      assert.equal(readFileSync(join(dataDir, 'epoch'), 'utf8'), 'garbage', 'left for the operator');
    }));

  it('gives the directory up only after its state store is closed', () =>
    withDataDir(async (dataDir) => {
      const lines: string[] = [];
      const node = await MwareNode.start({
        topologyFile: await topology('transactional'),
        dataDir,
        logLevel: 'debug',
        logDestination: new Writable({
          write(chunk: Buffer, _e, cb) {
            lines.push(...chunk.toString().split('\n').filter(Boolean));
            cb();
          },
        }),
      });
      await node.stop();
      const steps = lines
        .map((l) => JSON.parse(l) as { msg: string; step?: string })
        .filter((l) => l.msg === 'stop step')
        .map((l) => l.step);
      const closed = steps.indexOf('close the state store');
      const released = steps.indexOf('release the data directory');
      assert.ok(closed >= 0 && released > closed, steps.join(' → '));
      assert.equal(released, steps.length - 1, 'the last step');
    }));
});

describe('mutex state and fencing tokens on a node', () => {
  it('keeps only held keys in the state store: an unlocked key leaves nothing behind', () =>
    withDataDir(async (dataDir) => {
      const node = await start(dataDir);
      for (let i = 0; i < 300; i++) {
        const r = await node.mutex.lock(`k${i}`, { owner: 'o' });
        assert.ok(r.granted);
        await node.mutex.unlock(`k${i}`, { owner: 'o', token: r.token });
      }
      const held = await node.mutex.lock('still-held', { owner: 'o', hold_ms: 60_000 });
      assert.ok(held.granted);
      await node.stop();
      const store = await FileStateStore.open({ dir: join(dataDir, 'state') });
      assert.deepEqual(await store.keys('mutex:'), ['mutex:still-held']);
      await store.close();
    }));

  for (const mode of ['none', 'transactional'] as const) {
    it(`with state_mode ${mode}, hands out ever greater tokens for a key across its actor’s idle stop, restart and the node’s restart`, () =>
      withDataDir(async (dataDir) => {
        const tokens: number[] = [];
        const cycle = async (node: MwareNode) => {
          const r = await node.mutex.lock('orders-7', { owner: 'script' });
          assert.ok(r.granted);
          tokens.push(r.token);
          await node.mutex.unlock('orders-7', { owner: 'script', token: r.token });
        };
        const node = await start(dataDir, mode, 20);
        await cycle(node);
        await until(() => !node.mutex.liveKeys().includes('orders-7'), 'the idle actor stops');
        await cycle(node);
        const record = node.directory.get('/mutexes/orders-7');
        assert.ok(record, 'a live actor');
        await record.owner.restartChild(record.id);
        await cycle(node);
        await node.stop();
        const again = await start(dataDir, mode, 20);
        await cycle(again);
        await again.stop();
        for (let i = 1; i < tokens.length; i++)
          assert.ok(tokens[i]! > tokens[i - 1]!, `tokens must increase: ${tokens.join(', ')}`);
      }));
  }
});
