import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify, parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { MwareNode } from '../../src/node/node.ts';
import { silentLogger } from '../../src/log/log.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';
import { freePort } from '../harness/ports.ts';
import { tempDir } from '../harness/temp.ts';
import { exampleTopology } from '../harness/node.ts';

const EXAMPLE_FILE = tempDir('node-example');
const EXAMPLE = join(EXAMPLE_FILE.path, 'topology.yaml');
writeFileSync(EXAMPLE, stringify((await exampleTopology()).topology));
after(() => EXAMPLE_FILE.cleanup());
const FIXTURES = new URL('../fixtures/topology/', import.meta.url).pathname;
const code = (e: unknown) => (e as { code?: string }).code;

async function withNode<T>(
  fn: (node: MwareNode, dataDir: string) => Promise<T>,
  dataDir?: string,
  topologyFile = EXAMPLE,
): Promise<T> {
  const d = tempDir('node');
  const node = await MwareNode.start({
    topologyFile,
    dataDir: dataDir ?? join(d.path, 'data'),
    log: silentLogger(),
  });
  try {
    return await fn(node, dataDir ?? join(d.path, 'data'));
  } finally {
    await node.stop();
    if (!dataDir) d.cleanup();
  }
}

describe('a node on the embedded default', () => {
  it('becomes active with the example’s domains (parents first) and a mutex service in its tree', () =>
    withNode(async (node) => {
      assert.equal(node.state, 'active');
      assert.equal(node.epoch, 1);
      const tree = node.tree();
      assert.deepEqual(
        tree.children?.map((c) => [c.path, c.state]),
        [
          ['/cluster', 'running'],
          ['/api', 'running'],
          ['/domains', 'running'],
          ['/mutexes', 'running'],
        ],
      );
      const domains = tree.children?.find((c) => c.id === 'domains')?.children?.map((c) => c.id);
      assert.deepEqual(domains, [
        'rootdomain.ru',
        'office.rootdomain.ru',
        'test.rootdomain.ru',
        'sales.test.rootdomain.ru',
        'support.test.rootdomain.ru',
      ]);
      const status = await node.clusterStatus();
      assert.equal(status.active, 'mware1');
      assert.deepEqual(
        status.members.map((m) => [m.name, m.role, m.self]),
        [['mware1', 'active', true]],
      );
    }));

  it('answers a domain actor by its path', () =>
    withNode(async (node) => {
      const { askPath } = await import('../../src/actor-system/actor-ref.ts');
      const info = (await askPath(
        node.directory,
        '/domains/sales.test.rootdomain.ru',
        'info',
        null,
      )) as Record<string, unknown>;
      assert.deepEqual(
        [info.domain, info.parent, info.site, info.group],
        ['sales.test.rootdomain.ru', 'test.rootdomain.ru', 'main', 11120],
      );
    }));

  it('still knows its mutex holders after a restart on the same data directory', async () => {
    const d = tempDir('node-restart');
    const dataDir = join(d.path, 'data');
    try {
      const token = await withNode(async (node) => {
        const r = await node.mutex.lock('orders-42', { owner: 'script-1', hold_ms: 60_000 });
        assert.ok(r.granted);
        return r.token;
      }, dataDir);
      await withNode(async (node) => {
        assert.equal(node.epoch, 2);
        assert.equal(
          (await node.mutex.lock('orders-42', { owner: 'script-2' })).granted,
          false,
          'the hold survived the restart',
        );
        const info = await node.mutex.inspect('orders-42');
        assert.deepEqual(
          info.holders.map((h) => [h.owner, h.token]),
          [['script-1', token]],
        );
        await node.mutex.unlock('orders-42', { owner: 'script-1', token });
        const next = await node.mutex.lock('orders-42', { owner: 'script-2' });
        assert.ok(next.granted && next.token > token);
      }, dataDir);
    } finally {
      d.cleanup();
    }
  });

  it('with state_mode none, keeps nothing: a restarted node brings back no holders', async () => {
    const d = tempDir('node-none');
    const dataDir = join(d.path, 'data');
    try {
      const doc = parse(readFileSync(EXAMPLE, 'utf8')) as { roles: { state_mode?: string }[] };
      doc.roles[0]!.state_mode = 'none';
      const file = join(d.path, 'none.yaml');
      writeFileSync(file, stringify(doc));
      // An earlier run in the default (transactional) mode left a hold on disk.
      await withNode(async (node) => {
        assert.ok((await node.mutex.lock('orders-42', { owner: 'script-1' })).granted);
      }, dataDir);
      await withNode(
        async (node) => {
          assert.deepEqual(node.mutex.liveKeys(), [], 'no mutex actor is brought back');
          assert.ok((await node.mutex.lock('orders-42', { owner: 'script-2' })).granted);
        },
        dataDir,
        file,
      );
    } finally {
      d.cleanup();
    }
  });

  it('stops the group’s subtrees first, then the rest, each in reverse start order', () =>
    withNode(async (node) => {
      const stopped: string[] = [];
      node.events.subscribe((e: InspectionEvent) => void (e.type === 'stopped' && stopped.push(e.path)));
      await node.stop();
      assert.equal(node.state, 'stopped');
      const order = stopped.filter(
        (p) =>
          ['/mutexes', '/domains', '/api', '/cluster'].includes(p) ||
          p === '/domains/rootdomain.ru' ||
          p === '/domains/support.test.rootdomain.ru',
      );
      assert.deepEqual(order, [
        '/mutexes',
        '/domains/support.test.rootdomain.ru',
        '/domains/rootdomain.ru',
        '/domains',
        '/api',
        '/cluster',
      ]);
    }));

  it('refuses a second node on the same data directory', async () => {
    const d = tempDir('node-twice');
    const dataDir = join(d.path, 'data');
    try {
      await withNode(async () => {
        await assert.rejects(
          MwareNode.start({ topologyFile: EXAMPLE, dataDir, log: silentLogger() }),
          (e) => code(e) === 'MW_ERR_DATA_DIR_LOCKED',
        );
      }, dataDir);
    } finally {
      d.cleanup();
    }
  });

  it('refuses every invalid topology file with its problems', async () => {
    const bad = readdirSync(FIXTURES).filter((f) => /^bad-.*\.(ya?ml|json)$/.test(f));
    assert.ok(bad.length >= 10);
    for (const f of bad) {
      await assert.rejects(
        MwareNode.start({
          topologyFile: join(FIXTURES, f),
          dataDir: '/nonexistent/never-created',
          log: silentLogger(),
        }),
        (e: Error & { problems?: unknown[] }) =>
          code(e) === 'MW_ERR_TOPOLOGY_INVALID' && (e.problems?.length ?? 0) > 0,
        f,
      );
    }
  });

  it('refuses a role that is not an enabled mware instance of the file, naming the ones that are', async () => {
    await assert.rejects(
      MwareNode.start({ topologyFile: EXAMPLE, role: 'mware9', log: silentLogger() }),
      (e: Error) => code(e) === 'MW_ERR_ROLE_NOT_FOUND' && /enabled: mware1/.test(e.message),
    );
  });

  it('with Redis coordination it cannot reach, waits as a passive member and says coordination is unhealthy', async () => {
    const d = tempDir('node-redis');
    try {
      const doc = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
      doc.coordination = { redis: { url: 'redis://127.0.0.1:1/0' } };
      doc.security = { api_tokens: [], cluster_secret: 'c'.repeat(20) };
      // The node channel's own free port (its default, the API's port + 1, was never checked free).
      (doc.roles as { channel?: { port: number } }[])[0]!.channel = { port: await freePort() };
      writeFileSync(join(d.path, 't.yaml'), stringify(doc));
      const node = await MwareNode.start({
        topologyFile: join(d.path, 't.yaml'),
        dataDir: join(d.path, 'data'),
        log: silentLogger(),
      });
      try {
        assert.equal(node.state, 'passive');
        const view = await node.api.clusterView();
        assert.deepEqual(
          [view.active, view.coordination.kind, view.coordination.healthy],
          [null, 'redis', false],
        );
      } finally {
        await node.stop();
      }
    } finally {
      d.cleanup();
    }
  });
});
