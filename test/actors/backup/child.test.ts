import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runChild } from '../../../actors/backup/child.ts';
import type { ChildOutput } from '../../../src/child-output.ts';
import { until } from '../../harness/poll.ts';

// The runner of the backup's local programs (rsync, zip), on real processes: /bin/sh and sleep.

function capture(): { lines: string[]; output: ChildOutput } {
  const lines: string[] = [];
  return { lines, output: { line: (s, t) => lines.push(`${s}: ${t}`), end: () => lines.push('end') } };
}

/** A killed process left unreaped (a zombie, its parent gone too) counts as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** `sh` starting a `sleep` in its group and printing its pid: the whole group must go when it is killed. */
const SLEEPER = ['-c', 'sleep 30 & echo "sleep $!"; wait'];

function sleeperPid(lines: readonly string[]): number | undefined {
  const m = lines.map((l) => /^stdout: sleep (\d+)$/.exec(l)).find(Boolean);
  return m ? Number(m[1]) : undefined;
}

describe('backup child runner', () => {
  it('kills the whole process group when the deadline passes, and says so', async () => {
    const c = capture();
    const t0 = performance.now();
    await assert.rejects(runChild({ program: 'sh', args: SLEEPER, timeoutMs: 300, output: c.output }), {
      message: 'sh did not finish within 300 ms; killed',
    });
    assert.ok(performance.now() - t0 < 5_000);
    const pid = sleeperPid(c.lines);
    assert.ok(pid !== undefined, c.lines.join('\n'));
    await until('the sleep is gone', async () => !alive(pid), { ms: 5_000 });
  });

  it('kills it at once when the controller stops (the signal aborts)', async () => {
    const c = capture();
    const stop = new AbortController();
    const running = runChild({
      program: 'sh',
      args: SLEEPER,
      timeoutMs: 60_000,
      output: c.output,
      signal: stop.signal,
    });
    await until('the sleep has started', async () => sleeperPid(c.lines) !== undefined, { ms: 5_000 });
    stop.abort();
    await assert.rejects(running, { message: 'sh stopped: the backup controller is stopping; killed' });
    const pid = sleeperPid(c.lines) as number;
    await until('the sleep is gone', async () => !alive(pid), { ms: 5_000 });
  });

  it("a failure names the last stderr lines, or the last stdout lines when there are none (zip's way); every line is logged", async () => {
    const c = capture();
    await assert.rejects(
      runChild({
        program: 'sh',
        args: ['-c', 'echo out1; for i in 1 2 3 4; do echo "err$i" >&2; done; exit 3'],
        timeoutMs: 10_000,
        output: c.output,
      }),
      { message: 'sh exited with 3: err2 / err3 / err4' },
    );
    assert.deepEqual(c.lines.sort(), [
      'end',
      'stderr: err1',
      'stderr: err2',
      'stderr: err3',
      'stderr: err4',
      'stdout: out1',
    ]);
    await assert.rejects(
      runChild({
        program: 'sh',
        args: ['-c', 'echo "zip error: Nothing to do!"; exit 12'],
        timeoutMs: 10_000,
      }),
      { message: 'sh exited with 12: zip error: Nothing to do!' },
    );
    await assert.rejects(runChild({ program: '/nonexistent/zip', args: [], timeoutMs: 10_000 }), {
      message: /^cannot start \/nonexistent\/zip: .*ENOENT/,
    });
  });

  it('feeds stdin byte for byte and hands stdout lines over unlogged when asked, in latin1', async () => {
    const c = capture();
    const got: string[] = [];
    const out = await runChild({
      program: 'cat',
      args: [],
      stdin: Buffer.from('caf\xe9\nb\n', 'latin1'),
      timeoutMs: 10_000,
      output: c.output,
      stdoutEncoding: 'latin1',
      onStdoutLine: (l) => got.push(l),
    });
    assert.equal(out, '');
    assert.deepEqual(got, ['caf\xe9', 'b']);
    assert.deepEqual(c.lines, ['end']);
  });
});
