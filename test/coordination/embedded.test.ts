import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EmbeddedCoordination } from '../../src/coordination/embedded.ts';
import { ManualClock } from '../../supervisors/clock.ts';
import { tempDir } from '../harness/temp.ts';

describe('embedded coordination', () => {
  it('lets one node at a time be active on a data directory', async () => {
    const d = tempDir('coord');
    try {
      const a = new EmbeddedCoordination(d.path, 'a', new ManualClock(), () => true);
      await a.acquire();
      // Another node process (its pid alive) on the same directory must not become active.
      writeFileSync(join(d.path, 'node.lock'), JSON.stringify({ pid: 1, holder: 'a' }));
      const b = new EmbeddedCoordination(d.path, 'b', new ManualClock(), () => true);
      await assert.rejects(
        b.acquire(),
        (e: Error & { code?: string }) => e.code === 'MW_ERR_DATA_DIR_LOCKED' && /pid 1/.test(e.message),
      );
    } finally {
      d.cleanup();
    }
  });

  it('takes over the lock of a node that died, with a higher epoch', async () => {
    const d = tempDir('coord');
    try {
      const first = await new EmbeddedCoordination(d.path, 'n', new ManualClock()).acquire();
      writeFileSync(join(d.path, 'node.lock'), JSON.stringify({ pid: 999_999_999, holder: 'n' }));
      const c = new EmbeddedCoordination(d.path, 'n', new ManualClock(), () => false);
      const second = await c.acquire();
      assert.equal(second.epoch, first.epoch + 1);
      await c.release();
      assert.equal(existsSync(join(d.path, 'node.lock')), false);
    } finally {
      d.cleanup();
    }
  });

  it('lets only one of two nodes that both find a dead lock take it over', async () => {
    const d = tempDir('coord');
    try {
      const lock = join(d.path, 'node.lock');
      writeFileSync(lock, JSON.stringify({ pid: 999_999_999, holder: 'dead' }));
      const a = new EmbeddedCoordination(d.path, 'a', new ManualClock(), () => false);
      let aTook: Promise<unknown> | undefined;
      // b judges the dead lock stale; before it acts, a (judging the same) takes the directory over.
      const b = new EmbeddedCoordination(d.path, 'b', new ManualClock(), (pid) => {
        if (pid === 999_999_999 && !aTook) aTook = a.acquire();
        return false;
      });
      await assert.rejects(
        b.acquire(),
        (e: Error & { code?: string }) => e.code === 'MW_ERR_DATA_DIR_LOCKED',
      );
      await aTook;
      assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { holder: string }).holder, 'a');
      assert.deepEqual(readdirSync(d.path).sort(), ['epoch', 'node.lock']);
    } finally {
      d.cleanup();
    }
  });

  it('increments the epoch at every start', async () => {
    const d = tempDir('coord');
    try {
      const epochs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const c = new EmbeddedCoordination(d.path, 'n', new ManualClock());
        epochs.push((await c.acquire()).epoch);
        await c.release();
      }
      assert.deepEqual(epochs, [1, 2, 3]);
    } finally {
      d.cleanup();
    }
  });
});
