import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { findRedisServer } from '../../src/cli/local-cluster/redis-server.ts';
import { PROJECT_ROOT } from '../harness/node.ts';
import { freePort } from '../harness/ports.ts';
import { ManagedProcess } from '../harness/process.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * `npm run cluster` (issue 7, item 10): the script runs the shipped config/topology.cluster.yaml — on free ports, so
 * that test runs side by side do not collide — with a real redis-server and four real mware processes on 127.0.0.11
 * and 127.0.0.12. The test kills an active instance, sees the next one take over, then stops the script as Ctrl-C
 * would and checks that nothing it started is left.
 */

const SCRIPT = join(PROJECT_ROOT, 'src/cli/local-cluster/main.ts');
const dir = tempDir('local-cluster');
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  dir.cleanup();
});

/** The shipped file with every port it uses replaced by a free one. */
async function shippedOnFreePorts(): Promise<string> {
  const doc = parse(readFileSync(join(PROJECT_ROOT, 'config/topology.cluster.yaml'), 'utf8')) as {
    coordination: { redis: { url: string } };
    roles: { roletype: string; api: { port: number }; channel?: { port: number } }[];
  };
  doc.coordination.redis.url = `redis://127.0.0.1:${await freePort()}/0`;
  for (const role of doc.roles.filter((r) => r.roletype === 'mware')) {
    role.api.port = await freePort();
    role.channel = { port: await freePort() };
  }
  const file = join(dir.path, 'topology.cluster.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

function script(args: string[]): ManagedProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, MWARE_LOG_LEVEL: 'info' };
  // The script makes up the secrets the file needs when they are not set.
  for (const k of ['MWARE_SCRIPTS_TOKEN', 'MWARE_OPS_TOKEN', 'MWARE_CLUSTER_SECRET']) delete env[k];
  return new ManagedProcess('npm run cluster', process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: PROJECT_ROOT,
    env,
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, fn: () => Promise<boolean> | boolean, ms: number, p?: ManagedProcess) {
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (await Promise.resolve(fn()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`not within ${ms} ms: ${what}${p ? `\n${p.tail(30)}` : ''}`);
}

describe('npm run cluster', { timeout: 180_000 }, () => {
  it('explains itself with --help', async () => {
    const p = script(['--help']);
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    const text = p.lines.join('\n');
    assert.match(text, /Usage: npm run cluster -- \[options\]/);
    assert.match(text, /--topology <file>/);
    assert.match(text, /apt-get install -y redis-server/);
  });

  it('says how to install redis-server when it is missing', () => {
    assert.throws(
      () => findRedisServer([join(dir.path, 'no-such-dir')]),
      /redis-server is not installed.*apt-get install -y redis-server/,
    );
  });

  it('runs every mware instance of the file with Redis, fails over, and leaves nothing behind on Ctrl-C', async () => {
    const file = await shippedOnFreePorts();
    const p = script(['--topology', file]);
    const pids = new Set<number>();
    cleanups.push(async () => {
      if (p.running) await p.stop('SIGINT', 30_000);
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });

    await p.waitForLine(/\[cluster\]\s+every group has its active instance/, 90_000);
    const text = () => p.lines.join('\n');
    const nodes = [
      ...text().matchAll(/\[cluster\]\s+(mware\d) \(group (\d+), order \d+\): pid (\d+), API (\S+)/g),
    ].map((m) => ({ name: m[1] as string, group: Number(m[2]), pid: Number(m[3]), url: m[4] as string }));
    const redisPid = Number(/redis-server on 127\.0\.0\.1:\d+ \(pid (\d+)\)/.exec(text())?.[1]);
    const dataDir = /data in (\S+) \(removed at exit\)/.exec(text())?.[1] ?? '';
    for (const n of nodes) pids.add(n.pid);
    pids.add(redisPid);
    assert.deepEqual(
      nodes.map((n) => [n.name, n.group, new URL(n.url).hostname]),
      [
        ['mware1', 11120, '127.0.0.11'],
        ['mware2', 11120, '127.0.0.12'],
        ['mware3', 11130, '127.0.0.11'],
        ['mware4', 11130, '127.0.0.12'],
      ],
    );
    assert.ok(existsSync(dataDir), dataDir);

    const activeAt = async (n: (typeof nodes)[number]) =>
      (await fetch(`${n.url}/active`, { signal: AbortSignal.timeout(2_000) }).catch(() => null))?.status ===
      200;
    const activesOf = async (group: number) => {
      const members = nodes.filter((n) => n.group === group);
      const answers = await Promise.all(members.map(activeAt));
      return members.filter((_, i) => answers[i]);
    };
    for (const group of [11120, 11130])
      await until(
        `one active in group ${group}`,
        async () => (await activesOf(group)).length === 1,
        30_000,
        p,
      );

    // The admin token it printed opens the API (`mware shell` uses it the same way).
    const token = /export MWARE_TOKEN=(\S+)/.exec(text())?.[1];
    assert.ok(token, 'the admin token is printed');
    const active = (await activesOf(11120))[0] as (typeof nodes)[number];
    const view = await fetch(`${active.url}/api/v1/cluster`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(view.status, 200);
    assert.deepEqual(((await view.json()) as { coordination: object }).coordination, {
      kind: 'redis',
      healthy: true,
      detail: 'redis ready',
    });
    // Each line names the process it came from, mware's own lines made readable.
    assert.ok(
      p.lines.some((l) => /^\[mware1\]\s+\[\d\d:\d\d:\d\d\.\d{3}\] INFO: node joined its group/.test(l)),
      'prefixed, human-readable lines',
    );

    const next = nodes.find((n) => n.group === 11120 && n !== active) as (typeof nodes)[number];
    process.kill(active.pid, 'SIGKILL');
    await until(`${next.name} takes over from ${active.name}`, () => activeAt(next), 20_000, p);
    await p.waitForLine(new RegExp(`\\[cluster\\]\\s+${active.name} killed by SIGKILL`), 10_000);

    p.signal('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      p.exited,
      new Promise((r) => (timer = setTimeout(() => r('still running'), 60_000))),
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual(exit, { code: 0, signal: null }, p.tail(30));
    assert.deepEqual(
      [...pids].filter(alive),
      [],
      'every process it started is gone (nodes and redis-server)',
    );
    assert.equal(existsSync(dataDir), false, 'its temporary data is removed');
    assert.ok(
      p.lines.some((l) => /^\[redis\]\s+.*ready to exit/i.test(l)),
      'Redis stopped cleanly, last',
    );
  });
});
