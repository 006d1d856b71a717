import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MwareClient } from '../../src/client/client.ts';
import { complete } from '../../src/shell/shell.ts';
import { requireBinary } from '../harness/binaries.ts';
import type { NodeProcess } from '../harness/node.ts';
import { exampleTopology, MWARE_BIN, PROJECT_ROOT, startNodeProcess } from '../harness/node.ts';
import { tempDir } from '../harness/temp.ts';

/** `mware shell` and `mware send` driven as a user drives them, against a real `mware start` process. */

let node: NodeProcess;
let url: string;
let tokenFile: string;
const home = tempDir('shell-home');

before(async () => {
  const { topology, port } = await exampleTopology();
  node = startNodeProcess({ topology });
  await node.process.waitForLine(/"msg":"node active"/);
  url = `http://127.0.0.1:${port}`;
  tokenFile = join(node.dataDir, 'api.token');
});
after(async () => {
  await node.process.stop();
  node.cleanup();
  home.cleanup();
});

function mware(
  args: string[],
  input?: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MWARE_BIN, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, HOME: home.path, ...env },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
    p.stdin.end(input ?? '');
  });
}

const conn = () => ['--url', url, '--token-file', tokenFile];
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

describe('mware shell -c', () => {
  it('prints the tree with the example’s domains, plain when piped', async () => {
    const r = await mware(['shell', ...conn(), '-c', 'tree']);
    assert.equal(r.code, 0, r.err);
    for (const d of [
      'rootdomain.ru',
      'office.rootdomain.ru',
      'test.rootdomain.ru',
      'sales.test.rootdomain.ru',
      'support.test.rootdomain.ru',
    ])
      assert.match(r.out, new RegExp(`── ${d.replaceAll('.', '\\.')}  running`));
    assert.match(r.out, /── mutexes {2}running {2}mutex-supervisor/);
    assert.doesNotMatch(r.out, ANSI);
  });

  it('prints the whole cluster with tree --cluster: a heading per node, its tree indented under it', async () => {
    const r = await mware(['shell', ...conn(), '-c', 'tree --cluster']);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^cluster \S+ · 1 node$/m);
    assert.match(r.out, /^mware1 {2}group \d+ {2}active {2}this node$/m);
    assert.match(r.out, /^ {2}\/ {2}running/m);
    assert.match(r.out, /^ {2}[│ ]*[├└]── test\.rootdomain\.ru {2}running/m);
    assert.doesNotMatch(r.out, ANSI);
  });

  it('restarts an actor, and info shows the restart', async () => {
    const r = await mware(['shell', ...conn(), '-c', 'restart /domains/office.rootdomain.ru']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\/domains\/office\.rootdomain\.ru {2}running/);
    const info = await mware(['shell', ...conn(), '-c', 'info /domains/office.rootdomain.ru']);
    assert.match(info.out, /restarts {4}1 \(latest/);
  });

  it('exits 1 with the error code when a command fails, and 2 when no token can be found', async () => {
    const missing = await mware(['shell', ...conn(), '-c', 'info /domains/nope.ru']);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /MW_ERR_ACTOR_NOT_FOUND: no actor at \/domains\/nope\.ru/);
    const noToken = await mware(['shell', '--url', url, '-c', 'tree'], undefined, { MWARE_TOKEN: '' });
    assert.notEqual(noToken.code, 0);
  });
});

describe('mware shell with piped input', () => {
  it('runs one command per line, relative paths after cd included', async () => {
    const r = await mware(
      ['shell', ...conn()],
      'cd /domains\nls\nask test.rootdomain.ru info\nmutex\ncluster\n',
    );
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^support\.test\.rootdomain\.ru {2}running/m);
    assert.match(r.out, /"domain": "test\.rootdomain\.ru"/);
    assert.match(r.out, /mware1 +order 10 +127\.0\.0\.1 +active/);
    assert.doesNotMatch(r.out, ANSI);
  });
});

describe('mware send', () => {
  it('sends one message, and with --reply prints the answer', async () => {
    const told = await mware(['send', '/domains/rootdomain.ru', 'ping', ...conn()]);
    assert.equal(told.code, 0, told.err);
    const asked = await mware(['send', '/domains/rootdomain.ru', 'info', '--reply', ...conn()]);
    assert.equal(asked.code, 0, asked.err);
    assert.equal((JSON.parse(asked.out) as { domain: string }).domain, 'rootdomain.ru');
    const bad = await mware(['send', '/nowhere', 'ping', ...conn()]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /MW_ERR_ACTOR_NOT_FOUND/);
  });
});

describe('shell completion', () => {
  it('completes commands, absolute paths, and paths relative to the current one', async () => {
    const client = new MwareClient({ url, token: readFileSync(tokenFile, 'utf8').trim() });
    assert.deepEqual((await complete(client, '/', 'res'))[0], ['restart']);
    const [abs] = await complete(client, '/', 'tree /dom');
    assert.ok(abs.includes('/domains') && abs.every((p) => p.startsWith('/dom')), JSON.stringify(abs));
    assert.deepEqual(await complete(client, '/domains', 'info off'), [['office.rootdomain.ru'], 'off']);
    assert.deepEqual((await complete(client, '/', 'cluster '))[0], [], 'cluster takes no path');
    // After an actor's path, send and ask complete the messages its kind takes from outside.
    assert.deepEqual(await complete(client, '/', 'ask /domains/rootdomain.ru '), [['info', 'ping'], '']);
    assert.deepEqual(await complete(client, '/domains', 'send rootdomain.ru p'), [['ping'], 'p']);
    assert.deepEqual((await complete(client, '/', 'ask /mutexes '))[0], [], 'a supervisor takes no messages');
  });
});

describe('the interactive shell (in tmux)', () => {
  it('completes a path with Tab, follows events until Ctrl-C, and keeps its history', async () => {
    const tmux = requireBinary('tmux');
    const session = `mware-test-${process.pid}`;
    const history = join(home.path, 'history');
    const pane = () => execFileSync(tmux, ['capture-pane', '-t', session, '-p'], { encoding: 'utf8' });
    const keys = (...k: string[]) => execFileSync(tmux, ['send-keys', '-t', session, ...k]);
    const until = async (re: RegExp, ms = 10_000) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (re.test(pane())) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`the pane never matched ${re}:\n${pane()}`);
    };
    const cmd = `cd ${PROJECT_ROOT} && MWARE_SHELL_HISTORY=${history} ${process.execPath} ${MWARE_BIN} shell --url ${url} --token-file ${tokenFile}`;
    execFileSync(tmux, ['new-session', '-d', '-s', session, '-x', '160', '-y', '50', cmd]);
    try {
      await until(/^mware:\/>\s*$/m);
      keys('info /domains/sup', 'Tab');
      await until(/info \/domains\/support\.test\.rootdomain\.ru/);
      keys('Enter');
      await until(/kind +domain/);
      keys('events', 'Enter');
      await new Promise((r) => setTimeout(r, 500));
      await new MwareClient({ url, token: readFileSync(tokenFile, 'utf8').trim() }).restart(
        '/domains/support.test.rootdomain.ru',
      );
      await until(/restarted +\/domains\/support\.test\.rootdomain\.ru/);
      keys('C-c');
      await until(/restarted[^]*^mware:\/>\s*$/m);
      keys('exit', 'Enter');
      const end = Date.now() + 5_000;
      while (Date.now() < end && !existsSync(history)) await new Promise((r) => setTimeout(r, 100));
      assert.match(readFileSync(history, 'utf8'), /info \/domains\/support\.test\.rootdomain\.ru/);
    } finally {
      try {
        execFileSync(tmux, ['kill-session', '-t', session], { stdio: 'ignore' });
      } catch {
        // already gone: the shell exited
      }
    }
  });
});
