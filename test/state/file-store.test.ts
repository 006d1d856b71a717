import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { FileStateStore } from '../../src/state/file-store.ts';
import { createPersistence } from '../../src/state/persistence.ts';
import { ManualClock } from '../../src/supervision/clock.ts';
import { silentLogger } from '../../src/log/log.ts';
import { tempDir } from '../harness/temp.ts';

const code = (e: unknown) => (e as { code?: string }).code;

async function withDir(fn: (dir: string) => Promise<void>) {
  const d = tempDir('store');
  try {
    await fn(d.path);
  } finally {
    d.cleanup();
  }
}

describe('the embedded state store', () => {
  it('gives back after a reopen what it acknowledged', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      await s.save('a', { n: 1 }, 1);
      await s.save('b', { n: 2 }, 1);
      await s.save('a', { n: 3 }, 1);
      await s.delete('b', 1);
      // No close: as after a crash, only what reached the journal counts.
      const again = await FileStateStore.open({ dir });
      assert.deepEqual(await again.load('a'), { epoch: 1, value: { n: 3 } });
      assert.equal(await again.load('b'), undefined);
      await Promise.all([s.close(), again.close()]);
    }));

  it('writes many concurrent saves with one flush', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      await Promise.all(Array.from({ length: 500 }, (_, i) => s.save(`k${i % 50}`, i, 1)));
      const lines = readFileSync(join(dir, 'journal.log'), 'utf8').trim().split('\n');
      assert.equal(
        lines.length,
        50,
        'one line per key: later writes of a key in a batch replace earlier ones',
      );
      assert.deepEqual(await s.load('k7'), { epoch: 1, value: 457 });
      await s.close();
    }));

  it('closes while a batch is being written, after writing it and the saves that came meanwhile', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      const first = s.save('a', 1, 1);
      await new Promise((r) => setImmediate(r)); // the first batch is on its way to the disk
      const second = s.save('b', 2, 1);
      const closed = s.close();
      const outcome = await Promise.race([
        Promise.all([first, second, closed]).then(() => 'closed'),
        new Promise((r) => setTimeout(r, 5_000, 'hung')),
      ]);
      assert.equal(outcome, 'closed');
      const again = await FileStateStore.open({ dir });
      assert.deepEqual(await again.load('b'), { epoch: 1, value: 2 });
      await again.close();
    }));

  it('refuses a write from an older epoch than the key’s last one (a deposed active)', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      await s.save('mutex:k', 'new active', 5);
      await assert.rejects(s.save('mutex:k', 'old active', 4), (e) => code(e) === 'MW_ERR_STALE_EPOCH');
      assert.deepEqual(await s.load('mutex:k'), { epoch: 5, value: 'new active' });
      await s.close();
    }));

  it('drops a torn last line (a write cut off by a crash) and keeps appending cleanly', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      await s.save('a', 1, 1);
      await s.close();
      appendFileSync(join(dir, 'journal.log'), '{"k":"a","e":1,"v":');
      const again = await FileStateStore.open({ dir });
      assert.deepEqual(await again.load('a'), { epoch: 1, value: 1 });
      await again.save('b', 2, 1);
      await again.close();
      const third = await FileStateStore.open({ dir });
      assert.deepEqual(await third.load('b'), { epoch: 1, value: 2 });
      await third.close();
    }));

  it('refuses to open over a corrupt line in the middle rather than lose state silently', () =>
    withDir(async (dir) => {
      writeFileSync(join(dir, 'journal.log'), '{"k":"a","e":1,"v":1}\nnot json\n{"k":"b","e":1,"v":2}\n');
      await assert.rejects(
        FileStateStore.open({ dir }),
        (e: Error) => code(e) === 'MW_ERR_STATE_STORE' && /line 2 is corrupt/.test(e.message),
      );
    }));

  it('compacts the journal into a snapshot and loses nothing', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir, compactBytes: 2_000 });
      for (let i = 0; i < 200; i++) await s.save(`k${i % 20}`, { i, pad: 'x'.repeat(50) }, 1);
      assert.ok(statSync(join(dir, 'journal.log')).size < 2_500, 'the journal was compacted');
      await s.close();
      const again = await FileStateStore.open({ dir });
      assert.deepEqual((await again.load('k19'))?.value, { i: 199, pad: 'x'.repeat(50) });
      assert.equal((await again.keys('k')).length, 20);
      await again.close();
    }));

  it('says clearly when its directory cannot be used', async () => {
    const d = tempDir('store-file');
    try {
      writeFileSync(join(d.path, 'not-a-dir'), '');
      await assert.rejects(
        FileStateStore.open({ dir: join(d.path, 'not-a-dir', 'state') }),
        (e: Error) => code(e) === 'MW_ERR_STATE_STORE' && /ENOTDIR/.test(e.message),
      );
    } finally {
      d.cleanup();
    }
  });
});

/** Runs a child script of this folder on `dir` (in a shell, after `shell`), killed after 20 s. */
function runChild(
  script: string,
  dir: string,
  shell = '',
): { stdout: string; status: number | null; signal: string | null } {
  const file = new URL(script, import.meta.url).pathname;
  const r = spawnSync(
    'bash',
    ['-c', `${shell} exec "$0" --import tsx "$1" "$2"`, process.execPath, file, dir],
    {
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGKILL',
    },
  );
  return { stdout: r.stdout, status: r.status, signal: r.signal };
}

describe('the embedded state store under faults', () => {
  it('closes while batches are being written and saves keep coming, without spinning', () =>
    withDir(async (dir) => {
      const r = runChild('./store-close.child.ts', dir);
      assert.equal(r.stdout, 'closed\n', `the close never finished (killed: ${r.signal ?? 'no'})`);
    }));

  it('after a write that fails part-way (a full disk): keeps the last durable value and a journal it can open', () =>
    withDir(async (dir) => {
      // 64 KiB file size limit, its signal ignored: the big write gets part of the way, then EFBIG.
      const r = runChild('./store-fault.child.ts', dir, "trap '' XFSZ; ulimit -f 64;");
      assert.equal(r.status, 0, r.stdout);
      assert.deepEqual(JSON.parse(r.stdout), {
        big: 'MW_ERR_STATE_STORE',
        afterFailure: { holder: 'a' },
        next: 'acknowledged',
        reopened: { grant: { holder: 'a' }, next: { n: 1 } },
      });
    }));

  it('keeps a deleted key fenced: a deposed writer cannot bring it back', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      await s.save('mutex:k', 'held', 5);
      await s.delete('mutex:k', 5);
      await assert.rejects(s.save('mutex:k', 'stale holder', 4), (e) => code(e) === 'MW_ERR_STALE_EPOCH');
      await assert.rejects(s.save('mutex:other', 'stale holder', 4), (e) => code(e) === 'MW_ERR_STALE_EPOCH');
      await s.close();
      const again = await FileStateStore.open({ dir });
      await assert.rejects(again.save('mutex:k', 'stale holder', 4), (e) => code(e) === 'MW_ERR_STALE_EPOCH');
      assert.equal(await again.load('mutex:k'), undefined);
      await again.save('mutex:k', 'new', 6);
      await again.close();
    }));

  it('keeps a copy of what was saved, not the caller’s object', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      const value = { holders: ['a'] };
      await s.save('k', value, 1);
      value.holders.push('b');
      assert.deepEqual(await s.load('k'), { epoch: 1, value: { holders: ['a'] } });
      await s.close();
    }));

  it('answers a load of a key being written once the write is durable', () =>
    withDir(async (dir) => {
      const s = await FileStateStore.open({ dir });
      await s.save('k', 1, 1);
      const write = s.save('k', 2, 1);
      assert.deepEqual(await s.load('k'), { epoch: 1, value: 2 });
      await write;
      await s.close();
    }));
});

describe('state_mode', () => {
  it('transactional: a save resolves once the store has it', () =>
    withDir(async (dir) => {
      const store = await FileStateStore.open({ dir });
      const p = createPersistence('transactional', store, () => 3, new ManualClock(), silentLogger());
      await p.save('k', { v: 1 });
      const reopened = await FileStateStore.open({ dir });
      assert.deepEqual(await reopened.load('k'), { epoch: 3, value: { v: 1 } });
      await Promise.all([store.close(), reopened.close()]);
    }));

  it('periodic: keeps saves in memory, writes them every period and on close', () =>
    withDir(async (dir) => {
      const clock = new ManualClock();
      const store = await FileStateStore.open({ dir });
      const p = createPersistence('periodic', store, () => 1, clock, silentLogger(), 2_000);
      await p.save('k', 1);
      assert.equal(await p.load('k'), 1, 'readable at once');
      assert.equal(await store.load('k'), undefined, 'not written yet');
      await clock.advance(2_000);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await store.load('k'), { epoch: 1, value: 1 });
      await p.save('k', 2);
      await p.close();
      assert.deepEqual(await store.load('k'), { epoch: 1, value: 2 });
      await store.close();
    }));

  it('none: keeps nothing, so actors start empty', () =>
    withDir(async (dir) => {
      const store = await FileStateStore.open({ dir });
      const p = createPersistence('none', store, () => 1, new ManualClock(), silentLogger());
      await p.save('k', 1);
      assert.equal(await p.load('k'), undefined);
      assert.equal(await store.load('k'), undefined);
      await store.close();
    }));
});
