import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runHook, runHookProcess } from '../../../actors/acme/dns-hook.ts';
import type { ChildOutput, ChildStream } from '../../../src/child-output.ts';

/** The dns-01 hook as a child process: its exit, its deadline, and its output as records (src/child-output.ts). */

function collect(): ChildOutput & { lines: [ChildStream, string][]; ended: number } {
  const c = {
    lines: [] as [ChildStream, string][],
    ended: 0,
    line: (stream: ChildStream, text: string) => void c.lines.push([stream, text]),
    end: () => void c.ended++,
  };
  return c;
}

describe('the dns-01 hook process', () => {
  it('hands each line of its stdout and stderr to the output, then ends it once, with the exit code', async () => {
    const out = collect();
    const script = 'echo "set $1"; echo "warning: slow DNS" >&2; printf "no newline"; exit 4';
    const r = await runHookProcess(['/bin/sh', '-c', script, 'hook', '_acme-challenge.x.test'], 5_000, out);
    assert.equal(r.code, 4);
    assert.deepEqual([...out.lines].sort(), [
      ['stderr', 'warning: slow DNS'],
      ['stdout', 'no newline'],
      ['stdout', 'set _acme-challenge.x.test'],
    ]);
    assert.equal(out.ended, 1);
  });

  it('reads a noisy hook to its end (it never stalls on a full pipe), and kills one past its deadline', async () => {
    const out = collect();
    // 200,000 lines: far more than a pipe's buffer, so a hook whose output were not read would hang here.
    const noisy = await runHookProcess(['/bin/sh', '-c', 'seq 200000; exit 0'], 20_000, out);
    assert.equal(noisy.code, 0);
    assert.equal(out.lines.length, 200_000);
    const started = Date.now();
    const slow = await runHookProcess(['/bin/sleep', '30'], 300);
    assert.equal(slow.code, null);
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await runHookProcess(['/nonexistent/hook'], 1_000)).code, null, 'cannot start: failed');
  });

  it('passes set|clear, the record and the value, and names the hook and its exit in the error', async () => {
    const calls: string[][] = [];
    const fake = async (argv: readonly string[]) => (calls.push([...argv]), { code: 0 });
    await runHook(['/hook', '--zone', 'z'], 'set', '*.w.test', 'v1', fake, 1_000);
    assert.deepEqual(calls, [['/hook', '--zone', 'z', 'set', '_acme-challenge.w.test', 'v1']]);
    await assert.rejects(
      runHook(['/hook'], 'clear', 'w.test', 'v1', async () => ({ code: 2 }), 1_000),
      {
        code: 'MW_ERR_ACME_HOOK',
        message: /hook \/hook clear _acme-challenge\.w\.test exited with 2/,
      },
    );
  });
});
