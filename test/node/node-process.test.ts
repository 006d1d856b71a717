import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exampleTopology, startNodeProcess } from '../harness/node.ts';
import { tempDir } from '../harness/temp.ts';

/** `mware start` as an operator runs it: a real process, real signals, real exit codes. */

const { topology: EXAMPLE, port: PORT } = await exampleTopology();

/** POST to the node's API with the local admin token it keeps in its data directory. */
async function post(dataDir: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const token = readFileSync(join(dataDir, 'api.token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${PORT}${path}`, {
    method: path.includes('/lock') || path.includes('/unlock') ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}
const FIXTURES = new URL('../fixtures/topology/', import.meta.url).pathname;

describe('mware start, as a process', () => {
  it('runs the example until SIGTERM, then stops in reverse order and exits 0', async () => {
    const n = startNodeProcess({ topology: EXAMPLE });
    try {
      await n.process.waitForLine(/"msg":"node active"/);
      const exit = await n.process.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, n.process.tail());
      const stopped = n
        .logs()
        .filter((l) => l.msg === 'actor stopped')
        .map((l) => l.path);
      assert.equal(stopped[0], '/mutexes');
      assert.equal(stopped.at(-1), '/cluster');
      assert.ok(
        stopped.indexOf('/domains') > stopped.indexOf('/domains/rootdomain.ru'),
        'children stop before their supervisor',
      );
      assert.ok(n.logs().some((l) => l.msg === 'node stopped'));
      assert.ok(
        n.logs().every((l) => l.node === 'mware1' && l.group === 11120),
        'every line carries node and group',
      );
    } finally {
      n.cleanup();
    }
  });

  it('stops gracefully on SIGINT as well', async () => {
    const n = startNodeProcess({ topology: EXAMPLE });
    try {
      await n.process.waitForLine(/"msg":"node active"/);
      assert.deepEqual(await n.process.stop('SIGINT'), { code: 0, signal: null }, n.process.tail());
      assert.ok(n.logs().some((l) => l.msg === 'node stopped'));
    } finally {
      n.cleanup();
    }
  });

  it('starts again after SIGKILL on the same data directory, with a higher epoch and its mutex holders', async () => {
    const first = startNodeProcess({ topology: EXAMPLE });
    try {
      const active = JSON.parse(await first.process.waitForLine(/"msg":"node active"/)) as { epoch: number };
      const held = await post(first.dataDir, '/api/v1/mutex/orders-7/lock', { owner: 'script-1' });
      assert.equal(held.granted, true);
      await first.process.stop('SIGKILL');
      const second = startNodeProcess({ topology: EXAMPLE, dataDir: first.dataDir });
      try {
        const again = JSON.parse(await second.process.waitForLine(/"msg":"node active"/)) as {
          epoch: number;
        };
        assert.equal(again.epoch, active.epoch + 1);
        const info = (await post(first.dataDir, '/api/v1/mutex/orders-7', undefined)) as {
          holders: { owner: string; token: number }[];
        };
        assert.deepEqual(
          info.holders.map((h) => [h.owner, h.token]),
          [['script-1', held.token]],
          'the transactional default acknowledged the lock only once it was on disk',
        );
        assert.deepEqual(await second.process.stop('SIGTERM'), { code: 0, signal: null });
      } finally {
        second.cleanup();
      }
    } finally {
      first.cleanup();
    }
  });

  it('refuses an invalid topology: every problem with its path on stderr, exit 2', async () => {
    const n = startNodeProcess({ topology: join(FIXTURES, 'bad-references.yaml') });
    try {
      const exit = await n.process.exited;
      assert.equal(exit.code, 2, n.process.tail());
      const text = n.process.lines.join('\n');
      assert.match(text, /servers\[1\]\.site .*site "backup" is not defined/);
      assert.match(text, /roles\[1\]\.server .*server "srv9" is not defined/);
      assert.ok(!n.process.lines.some((l) => l.includes('"node active"')));
    } finally {
      n.cleanup();
    }
  });

  it('exits 1 saying why when its data directory cannot be used', async () => {
    const d = tempDir('bad-data');
    writeFileSync(join(d.path, 'file'), 'not a directory');
    const n = startNodeProcess({ topology: EXAMPLE, dataDir: join(d.path, 'file', 'data') });
    try {
      const exit = await n.process.exited;
      assert.equal(exit.code, 1, n.process.tail());
      assert.match(n.process.lines.join('\n'), /cannot create the data directory .*ENOTDIR/);
    } finally {
      n.cleanup();
      d.cleanup();
    }
  });
});
