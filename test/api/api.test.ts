import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';

/** The message API through real HTTP on loopback, against a real node (03-interfaces.md). */

let n: ApiNode;
before(async () => {
  n = await startApiNode({ mutexIdleMs: 60_000 });
});
after(async () => {
  await n.stop();
});

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(body.error.code, code, text);
  assert.equal(typeof body.error.message, 'string');
  return body;
}

const post = (path: string, body: unknown, token: string | null = TOKENS.admin) =>
  n.call(path, { method: 'POST', body: JSON.stringify(body), token });

describe('the API: authentication and scopes', () => {
  it('answers 401 without a token, with the error shape and a WWW-Authenticate challenge', async () => {
    for (const path of ['/healthz', '/api/v1/tree', '/metrics', '/api/v1/openapi.json', '/api/v1/nope']) {
      const res = await n.call(path, { token: null });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="mware"');
      await expectError(res, 401, 'MW_ERR_UNAUTHORIZED');
    }
  });

  it('answers 401 to a wrong token and to a malformed Authorization header', async () => {
    await expectError(
      await n.call('/api/v1/tree', { token: 'not-the-token-0123456789' }),
      401,
      'MW_ERR_UNAUTHORIZED',
    );
    await expectError(
      await n.call('/api/v1/tree', { token: null, headers: { authorization: `Basic ${TOKENS.admin}` } }),
      401,
      'MW_ERR_UNAUTHORIZED',
    );
  });

  it('answers 403 when the token lacks the scope', async () => {
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/messages', { type: 'ping' }, TOKENS.reader),
      403,
      'MW_ERR_FORBIDDEN',
    );
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/messages', { type: 'ping' }, TOKENS.mutexOnly),
      403,
      'MW_ERR_FORBIDDEN',
    );
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/restart', {}, TOKENS.scripts),
      403,
      'MW_ERR_FORBIDDEN',
    );
    await expectError(
      await post('/api/v1/mutex/k/lock', { owner: 'o' }, TOKENS.reader),
      403,
      'MW_ERR_FORBIDDEN',
    );
    await expectError(await n.call('/api/v1/logs', { token: TOKENS.scripts }), 403, 'MW_ERR_FORBIDDEN');
  });

  it('lets any valid token read: health, readiness, tree, cluster, metrics', async () => {
    for (const path of ['/healthz', '/readyz', '/api/v1/tree', '/api/v1/cluster', '/metrics']) {
      assert.equal((await n.call(path, { token: TOKENS.reader })).status, 200, path);
    }
  });

  it('serves the static web view without a token, and nothing else', async () => {
    const res = await n.call('/ui', { token: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await res.text(), /<script src="\/ui\/app.js"/);
    assert.equal((await n.call('/ui/app.js', { token: null })).status, 200);
  });
});

describe('the API: health, readiness, metrics, OpenAPI', () => {
  it('reports the process alive and the node ready (active)', async () => {
    assert.deepEqual(await (await n.call('/healthz')).json(), {
      status: 'ok',
      node: 'mware1',
      state: 'active',
    });
    assert.deepEqual(await (await n.call('/readyz')).json(), {
      status: 'ready',
      node: 'mware1',
      state: 'active',
    });
  });

  it('exposes Prometheus metrics by actor kind, never by id', async () => {
    await post('/api/v1/actors/domains/rootdomain.ru/messages?reply=true', { type: 'ping' });
    const text = await (await n.call('/metrics')).text();
    assert.match(text, /^mware_actor_messages_total\{kind="domain",node="mware1"\} \d+/m);
    assert.match(text, /^mware_actors\{kind="domain",state="running",node="mware1"\} 3$/m);
    assert.match(text, /^mware_group_epoch\{group="11120",node="mware1"\} 1$/m);
    assert.match(text, /^mware_node_active\{group="11120",node="mware1"\} 1$/m);
    assert.match(
      text,
      /^mware_api_requests_total\{route="\/api\/v1\/actors\/\*",method="POST",status="200",node="mware1"\} \d+/m,
    );
    assert.match(text, /^mware_process_cpu_seconds_total/m);
    for (const line of text.split('\n').filter((l) => l.startsWith('mware_'))) {
      assert.doesNotMatch(line, /rootdomain\.ru|\/domains\//, `a metric labelled by id: ${line}`);
    }
  });

  it('publishes an OpenAPI 3.1 document generated from the routes and their schemas', async () => {
    const doc = (await (await n.call('/api/v1/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, '3.1.0');
    for (const [path, method] of [
      ['/api/v1/actors/{path}/messages', 'post'],
      ['/api/v1/actors/{path}', 'get'],
      ['/api/v1/actors/{path}/restart', 'post'],
      ['/api/v1/tree', 'get'],
      ['/api/v1/cluster', 'get'],
      ['/api/v1/events', 'get'],
      ['/api/v1/mutex/{key}/lock', 'post'],
      ['/api/v1/mutex/{key}/unlock', 'post'],
      ['/api/v1/mutex/release-owner', 'post'],
      ['/healthz', 'get'],
      ['/metrics', 'get'],
    ] as const) {
      assert.ok(doc.paths[path]?.[method], `${method} ${path} is documented`);
    }
    assert.ok(doc.paths['/api/v1/mutex/{key}/lock']?.post?.requestBody);
    for (const id of ['Error', 'MessageRequest', 'TreeNode', 'LockRequest', 'LockGranted', 'ClusterView'])
      assert.ok(doc.components.schemas[id], id);
  });
});

describe('the API: actors', () => {
  it('returns the tree, and a subtree by path', async () => {
    const tree = (await (await n.call('/api/v1/tree')).json()) as {
      children: { id: string; children?: { id: string }[] }[];
    };
    assert.deepEqual(
      tree.children.map((c) => c.id),
      ['cluster', 'api', 'domains', 'mutexes'],
    );
    const sub = (await (await n.call('/api/v1/tree?path=/domains')).json()) as {
      path: string;
      children: { id: string }[];
    };
    assert.equal(sub.path, '/domains');
    assert.deepEqual(
      sub.children.map((c) => c.id),
      ['rootdomain.ru', 'test.rootdomain.ru', 'sales.test.rootdomain.ru'],
    );
    await expectError(await n.call('/api/v1/tree?path=/nowhere'), 404, 'MW_ERR_ACTOR_NOT_FOUND');
  });

  it('returns one actor’s details', async () => {
    const d = (await (await n.call('/api/v1/actors/domains/test.rootdomain.ru')).json()) as {
      node: { path: string; kind: string; state: string };
      parent: string;
      restart: string;
    };
    assert.deepEqual(
      [d.node.path, d.node.kind, d.node.state, d.parent, d.restart],
      ['/domains/test.rootdomain.ru', 'domain', 'running', '/domains', 'permanent'],
    );
    await expectError(
      await n.call('/api/v1/actors/domains/nope.rootdomain.ru'),
      404,
      'MW_ERR_ACTOR_NOT_FOUND',
    );
  });

  it('asks an actor with ?reply=true and tells it without', async () => {
    const ask = await post('/api/v1/actors/domains/test.rootdomain.ru/messages?reply=true', { type: 'info' });
    assert.equal(ask.status, 200);
    const { result } = (await ask.json()) as { result: { domain: string; parent: string } };
    assert.deepEqual([result.domain, result.parent], ['test.rootdomain.ru', 'rootdomain.ru']);
    const tell = await post('/api/v1/actors/domains/test.rootdomain.ru/messages', { type: 'ping' });
    assert.equal(tell.status, 202);
    assert.deepEqual(await tell.json(), { accepted: true });
  });

  it('refuses bad messages with a 4xx naming the problem', async () => {
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/messages?reply=true', { type: 'no-such' }),
      400,
      'MW_ERR_UNKNOWN_MESSAGE',
    );
    const missing = await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/messages', { payload: 1 }),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    assert.match(missing.error.message, /body\.type/);
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/messages?reply=true', { type: '__shutdown' }),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/messages', { type: 'ping', extra: 1 }),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    await expectError(
      await post('/api/v1/actors/domains/nope.ru/messages', { type: 'ping' }),
      404,
      'MW_ERR_ACTOR_NOT_FOUND',
    );
    await expectError(
      await n.call('/api/v1/actors/domains/rootdomain.ru/messages', {
        method: 'POST',
        body: '{"type": "ping"',
      }),
      400,
      'MW_ERR_BAD_JSON',
    );
    await expectError(
      await n.call('/api/v1/actors/domains/rootdomain.ru/messages', {
        method: 'POST',
        body: 'type=ping',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
      'MW_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/messages', {
        type: 'ping',
        payload: 'x'.repeat(300_000),
      }),
      413,
      'MW_ERR_PAYLOAD_TOO_LARGE',
    );
    await expectError(
      await post('/api/v1/actors/domains/rootdomain.ru/frobnicate', {}),
      404,
      'MW_ERR_NOT_FOUND',
    );
  });

  it('restarts, stops and starts an actor for an admin', async () => {
    const path = '/api/v1/actors/domains/sales.test.rootdomain.ru';
    assert.deepEqual(await (await post(`${path}/restart`, {})).json(), {
      path: '/domains/sales.test.rootdomain.ru',
      state: 'running',
    });
    const d = (await (await n.call(path)).json()) as { node: { restarts: number } };
    assert.equal(d.node.restarts, 1);
    assert.deepEqual(await (await post(`${path}/stop`, {})).json(), {
      path: '/domains/sales.test.rootdomain.ru',
      state: 'stopped',
    });
    await expectError(
      await post(`${path}/messages?reply=true`, { type: 'ping' }),
      503,
      'MW_ERR_ACTOR_UNAVAILABLE',
    );
    assert.deepEqual(await (await post(`${path}/start`, {})).json(), {
      path: '/domains/sales.test.rootdomain.ru',
      state: 'running',
    });
    assert.equal((await post(`${path}/messages?reply=true`, { type: 'ping' })).status, 200);
    await expectError(await post('/api/v1/actors/restart', {}), 409, 'MW_ERR_SUPERVISOR_REFUSED');
  });

  it('answers 504 when the reply does not come in time', async () => {
    // A lock on a held key waits up to wait_ms; asked through the generic endpoint with a shorter deadline.
    assert.equal(
      (await post('/api/v1/mutex/slow/lock', { owner: 'holder', hold_ms: 30_000 }, TOKENS.scripts)).status,
      200,
    );
    const t0 = performance.now();
    const res = await post('/api/v1/actors/mutexes/slow/messages?reply=true', {
      type: 'lock',
      payload: { owner: 'late', wait_ms: 10_000 },
      timeout_ms: 300,
    });
    await expectError(res, 504, 'MW_ERR_TIMEOUT');
    assert.ok(performance.now() - t0 < 2_000, 'the deadline was kept');
  });
});

describe('the API: cluster and streams', () => {
  it('describes the cluster: members, the active one, the epoch, coordination', async () => {
    const c = (await (await n.call('/api/v1/cluster')).json()) as Record<string, unknown>;
    assert.equal(c.active, 'mware1');
    assert.equal(c.epoch, 1);
    assert.equal(c.node_state, 'active');
    assert.deepEqual(c.coordination, { kind: 'embedded', healthy: true });
  });

  it('streams inspection events as server-sent events', async () => {
    const ac = new AbortController();
    const res = await n.call('/api/v1/events', { signal: ac.signal, token: TOKENS.reader });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const seen = (async () => {
      while (!text.includes('event: restarted')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await post('/api/v1/actors/domains/rootdomain.ru/restart', {});
    await seen;
    ac.abort();
    assert.match(text, /event: hello\ndata: \{"node":"mware1"/);
    assert.match(text, /event: restarted\ndata: \{[^\n]*"path":"\/domains\/rootdomain\.ru"/);
  });

  it('gives an admin the node’s recent log lines', async () => {
    const text = await (await n.call('/api/v1/logs?n=5')).text();
    assert.match(text, /event: log/);
  });
});

describe('the API: the mutex facade', () => {
  const lock = (key: string, body: Record<string, unknown>, token = TOKENS.scripts) =>
    post(`/api/v1/mutex/${encodeURIComponent(key)}/lock`, body, token);
  const unlock = (key: string, body: Record<string, unknown>) =>
    post(`/api/v1/mutex/${encodeURIComponent(key)}/unlock`, body, TOKENS.scripts);

  it('grants a free key with a token, and queues the next callers first come first served', async () => {
    const a = (await (await lock('fifo', { owner: 'a' })).json()) as { granted: boolean; token: number };
    assert.ok(a.granted);
    const order: string[] = [];
    const b = lock('fifo', { owner: 'b', wait_ms: 5_000 }).then(
      async (r) => (order.push('b'), (await r.json()) as { token: number }),
    );
    await new Promise((r) => setTimeout(r, 50));
    const c = lock('fifo', { owner: 'c', wait_ms: 5_000 }).then(
      async (r) => (order.push('c'), (await r.json()) as { token: number }),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await unlock('fifo', { owner: 'a', token: a.token })).status, 200);
    const bt = await b;
    assert.deepEqual(order, ['b']);
    assert.ok(bt.token > a.token);
    await unlock('fifo', { owner: 'b', token: bt.token });
    await c;
    assert.deepEqual(order, ['b', 'c']);
  });

  it('answers 408 when the wait runs out', async () => {
    await lock('busy', { owner: 'a' });
    const res = await lock('busy', { owner: 'b', wait_ms: 100 });
    assert.equal(res.status, 408);
    assert.deepEqual(await res.json(), { granted: false, reason: 'timeout' });
  });

  it('shares read locks and makes a writer wait for the readers', async () => {
    const r1 = (await (await lock('rw', { owner: 'r1', mode: 'read' })).json()) as {
      granted: boolean;
      token: number;
    };
    const r2 = (await (await lock('rw', { owner: 'r2', mode: 'read' })).json()) as {
      granted: boolean;
      token: number;
    };
    assert.ok(r1.granted && r2.granted);
    assert.equal((await lock('rw', { owner: 'w', mode: 'write', wait_ms: 50 })).status, 408);
    const writer = lock('rw', { owner: 'w', mode: 'write', wait_ms: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      (await lock('rw', { owner: 'r3', mode: 'read' })).status,
      408,
      'a waiting writer blocks new readers',
    );
    await unlock('rw', { owner: 'r1', token: r1.token });
    await unlock('rw', { owner: 'r2', token: r2.token });
    assert.equal((await writer).status, 200);
  });

  it('rejects a stale token with 409', async () => {
    const a = (await (await lock('stale', { owner: 'a' })).json()) as { token: number };
    await unlock('stale', { owner: 'a', token: a.token });
    await expectError(await unlock('stale', { owner: 'a', token: a.token }), 409, 'MW_ERR_MUTEX_STALE_TOKEN');
    await expectError(await unlock('stale', { owner: 'a', token: 0.5 }), 400, 'MW_ERR_BAD_REQUEST');
  });

  it('releases everything of an owner whose script ended', async () => {
    await lock('ro-1', { owner: 'gone' });
    await lock('ro-2', { owner: 'gone' });
    const waiting = lock('ro-1', { owner: 'next', wait_ms: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    const res = await post('/api/v1/mutex/release-owner', { owner: 'gone' }, TOKENS.mutexOnly);
    assert.deepEqual(await res.json(), { released: 2, cancelled: 0, keys: 2 });
    assert.equal((await waiting).status, 200);
  });

  it('lists live keys and shows a key’s holders and waiters, keys with a slash included', async () => {
    await lock('orders/42', { owner: 'x', hold_ms: 30_000 });
    const keys = (await (await n.call('/api/v1/mutex')).json()) as { keys: string[] };
    assert.ok(keys.keys.includes('orders/42'), JSON.stringify(keys));
    const info = (await (await n.call(`/api/v1/mutex/${encodeURIComponent('orders/42')}`)).json()) as {
      key: string;
      holders: { owner: string }[];
    };
    assert.deepEqual([info.key, info.holders.map((h) => h.owner)], ['orders/42', ['x']]);
  });

  it('validates lock requests', async () => {
    await expectError(await lock('v', { owner: '' }), 400, 'MW_ERR_BAD_REQUEST');
    await expectError(await lock('v', { owner: 'a', mode: 'exclusive' }), 400, 'MW_ERR_BAD_REQUEST');
    await expectError(await lock('v', { owner: 'a', hold_ms: 0 }), 400, 'MW_ERR_BAD_REQUEST');
    await expectError(await lock('v', { owner: 'a', wait_ms: -1 }), 400, 'MW_ERR_BAD_REQUEST');
  });
});

describe('the API: where it listens and what it logs', () => {
  it('listens on the role’s internal interface address only', () => {
    const hex = n.port.toString(16).toUpperCase().padStart(4, '0');
    const listening = readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1]?.endsWith(`:${hex}`) && f[3] === '0A')
      .map((f) => f[1]);
    assert.deepEqual(listening, [`0100007F:${hex}`]);
  });

  it('never writes a token to its log', () => {
    assert.ok(n.logLines.length > 10);
    const all = n.logLines.join('\n');
    for (const t of Object.values(TOKENS)) assert.ok(!all.includes(t), 'a token reached the log');
  });
});
