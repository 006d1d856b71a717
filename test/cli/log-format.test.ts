import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { logFormat } from '../../src/cli/log-format.ts';
import { requireBinary } from '../harness/binaries.ts';
import { exampleTopology, MWARE_BIN, PROJECT_ROOT, startNodeProcess } from '../harness/node.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * The log format of `mware start`: pretty for a person at a terminal, JSON lines for anything else. The
 * terminal cases run the node in tmux (a real pseudo-terminal); the piped ones as the harness starts nodes.
 */

const PRETTY_ACTIVE = /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(\d+\): node active$/m;
const JSON_ACTIVE = /^\{"level":30,.*"msg":"node active"/m;

describe('the log format decision', () => {
  it('is pretty on a terminal and JSON lines otherwise, unless a flag says which', () => {
    assert.equal(logFormat({}, true), 'pretty');
    assert.equal(logFormat({}, false), 'json');
    assert.equal(logFormat({ logJson: true }, true), 'json');
    assert.equal(logFormat({ logJson: true }, false), 'json');
    assert.equal(logFormat({ logPretty: true }, true), 'pretty');
    assert.equal(logFormat({ logPretty: true }, false), 'pretty');
  });
});

describe('mware start flags for the log format', () => {
  it('refuses --log-json with --log-pretty as bad usage (exit 2)', async () => {
    const p = spawn(process.execPath, [MWARE_BIN, 'start', '--log-json', '--log-pretty'], {
      cwd: PROJECT_ROOT,
    });
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((resolve) => p.on('exit', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /'--log-json' cannot be used with option '--log-pretty'/);
  });

  it('documents both flags and the terminal default in --help', () => {
    const help = execFileSync(process.execPath, [MWARE_BIN, 'start', '--help'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    });
    assert.match(help, /--log-json +log JSON lines, even on a terminal/);
    assert.match(help, /--log-pretty +log human-readable lines, even when piped or redirected/);
    assert.match(help, /human-readable lines when stdout is a terminal, JSON lines when it is piped/);
  });
});

describe('mware start logs, piped', () => {
  it('writes JSON lines when its output is piped', async () => {
    const { topology } = await exampleTopology();
    const n = startNodeProcess({ topology });
    try {
      await n.process.waitForLine(/node active/);
      assert.deepEqual(await n.process.stop('SIGTERM'), { code: 0, signal: null }, n.process.tail());
      const lines = n.process.lines.filter((l) => l.length > 0);
      assert.ok(lines.length > 5, n.process.tail());
      assert.deepEqual(
        lines.filter((l) => !l.startsWith('{')),
        [],
        'every line is a JSON object',
      );
      assert.ok(n.logs().some((l) => l.msg === 'node active'));
    } finally {
      n.cleanup();
    }
  });

  it('writes human-readable lines without colours when piped with --log-pretty', async () => {
    const { topology } = await exampleTopology();
    const n = startNodeProcess({ topology, args: ['--log-pretty'] });
    try {
      await n.process.waitForLine(/node active/);
      assert.deepEqual(await n.process.stop('SIGTERM'), { code: 0, signal: null }, n.process.tail());
      const text = n.process.lines.join('\n');
      assert.match(text, PRETTY_ACTIVE);
      assert.deepEqual(n.logs(), [], 'no JSON line');
      assert.ok(!text.includes('\u001b['), 'no colour escapes in a pipe');
    } finally {
      n.cleanup();
    }
  });
});

describe('mware start logs, on a terminal (in tmux)', () => {
  /** Runs `mware start ARGS` in a tmux pane until "node active", stops it with Ctrl-C; returns the whole pane. */
  async function onTerminal(...args: string[]): Promise<string> {
    const tmux = requireBinary('tmux');
    const dir = tempDir('tty-log');
    const session = `mware-log-${process.pid}-${args.join('') || 'default'}`;
    const { topology } = await exampleTopology();
    const file = join(dir.path, 'topology.yaml');
    writeFileSync(file, stringify(topology));
    const start = [MWARE_BIN, 'start', '--topology', file, '--data-dir', join(dir.path, 'data'), ...args];
    // The shell stays after mware exits, so the pane can still be read and the exit code shows in it.
    const cmd = `cd ${PROJECT_ROOT} && ${process.execPath} ${start.join(' ')}; echo "mware exited $?"; sleep 600`;
    const pane = () =>
      execFileSync(tmux, ['capture-pane', '-t', session, '-p', '-J', '-S', '-'], { encoding: 'utf8' });
    const until = async (re: RegExp, ms = 20_000) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (re.test(pane())) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`the pane never matched ${re}:\n${pane()}`);
    };
    execFileSync(tmux, ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', cmd]);
    try {
      await until(/node active/);
      execFileSync(tmux, ['send-keys', '-t', session, 'C-c']);
      await until(/^mware exited 0$/m);
      return pane();
    } finally {
      execFileSync(tmux, ['kill-session', '-t', session], { stdio: 'ignore' });
      dir.cleanup();
    }
  }

  it('writes human-readable lines by default', async () => {
    const text = await onTerminal();
    assert.match(text, PRETTY_ACTIVE);
    assert.doesNotMatch(text, /^\{"level"/m);
  });

  it('writes JSON lines with --log-json', async () => {
    const text = await onTerminal('--log-json');
    assert.match(text, JSON_ACTIVE);
    assert.doesNotMatch(text, PRETTY_ACTIVE);
  });
});
