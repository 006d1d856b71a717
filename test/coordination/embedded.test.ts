import assert from 'node:assert/strict';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EmbeddedCoordination } from '../../src/coordination/embedded.ts';
import { ManualClock } from '../../src/supervision/clock.ts';
import { tempDir } from '../harness/temp.ts';

const code = (e: unknown) => (e as { code?: string }).code;

async function withDir(fn: (dir: string) => Promise<void>) {
  const d = tempDir('coord');
  try {
    await fn(d.path);
  } finally {
    d.cleanup();
  }
}

const acquireIn = async (dir: string, saved = 0) =>
  (await new EmbeddedCoordination(dir, 'n', new ManualClock(), () => saved).acquire()).epoch;

describe('embedded coordination', () => {
  it('increments the epoch at every acquisition, durably', () =>
    withDir(async (dir) => {
      assert.deepEqual([await acquireIn(dir), await acquireIn(dir), await acquireIn(dir)], [1, 2, 3]);
      assert.equal(readFileSync(join(dir, 'epoch'), 'utf8'), '3\n');
    }));

  for (const [what, content] of [
    ['empty', ''],
    ['half written', '1'.repeat(3) + '\u0000\u0000'],
    ['not a number', 'seven\n'],
    ['negative', '-4\n'],
    ['beyond a safe integer', '99999999999999999999\n'],
  ] as const) {
    it(`refuses to start on an epoch file that is ${what}, rather than counting from zero`, () =>
      withDir(async (dir) => {
        writeFileSync(join(dir, 'epoch'), content);
        await assert.rejects(
          acquireIn(dir),
          (e: Error) => code(e) === 'MW_ERR_EPOCH_UNREADABLE' && e.message.includes(join(dir, 'epoch')),
        );
        assert.equal(readFileSync(join(dir, 'epoch'), 'utf8'), content, 'the file is left for the operator');
      }));
  }

  it('counts on from the saved state when the epoch file is missing', () =>
    withDir(async (dir) => {
      await acquireIn(dir);
      unlinkSync(join(dir, 'epoch'));
      assert.equal(await acquireIn(dir, 41), 42, 'above every epoch the state was written with');
    }));
});
