import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApiApp } from '../../src/api/server.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, startTestActor, TOKENS } from '../support/api-node.ts';
import { listeningAddresses } from '../support/listening.ts';
import { expectError } from '../support/api-errors.ts';

/** The message API through real HTTP on loopback, against a real node (03-interfaces.md). */

let n: ApiNode;
before(async () => {
  n = await startApiNode({ mutexIdleMs: 60_000 });
});
after(async () => {
  await n.stop();
});

const post = (path: string, body: unknown, token: string | null = TOKENS.admin) =>
  n.call(path, { method: 'POST', body: JSON.stringify(body), token });

describe('the API: authentication and scopes', () => {
  it('answers 401 without a token, with the error shape and a WWW-Authenticate challenge', async () => {
    for (const path of [
      '/api/v1/tree',
      '/metrics',
      '/api/v1/openapi.json',
      '/api/v1/nope',
      '/api/v1/cluster',
    ]) {
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

  const actor = '/api/v1/actors/domains/rootdomain.ru';
  for (const [what, token, method, path] of [
    ['a reader sending a message', TOKENS.reader, 'POST', `${actor}/messages`],
    ['a mutex-only token sending a message', TOKENS.mutexOnly, 'POST', `${actor}/messages`],
    ['a send token restarting an actor', TOKENS.scripts, 'POST', `${actor}/restart`],
    ['a send token stopping an actor', TOKENS.scripts, 'POST', `${actor}/stop`],
    ['a send token starting an actor', TOKENS.scripts, 'POST', `${actor}/start`],
    ['a reader locking a mutex', TOKENS.reader, 'POST', '/api/v1/mutex/k/lock'],
    ['a reader unlocking a mutex', TOKENS.reader, 'POST', '/api/v1/mutex/k/unlock'],
    ['a reader releasing an owner', TOKENS.reader, 'POST', '/api/v1/mutex/release-owner'],
    ['a send token reading the log', TOKENS.scripts, 'GET', '/api/v1/logs'],
    ['a reader reading the log', TOKENS.reader, 'GET', '/api/v1/logs'],
  ] as const) {
    it(`answers 403 to ${what}`, async () => {
      const body = path.includes('/mutex/') ? { owner: 'o', token: 1 } : { type: 'ping' };
      const res = await n.call(path, {
        method,
        token,
        body: method === 'POST' ? JSON.stringify(body) : undefined,
      });
      await expectError(res, 403, 'MW_ERR_FORBIDDEN');
    });
  }

  it('lets any valid token read: tree, cluster, metrics', async () => {
    for (const path of ['/api/v1/tree', '/api/v1/cluster', '/metrics']) {
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
  it('answers health checks without a token, saying nothing but their status', async () => {
    for (const token of [null, TOKENS.reader, 'a-wrong-token-0123456789']) {
      for (const [path, status] of [
        ['/healthz', 'ok'],
        ['/readyz', 'ready'],
        ['/active', 'active'],
      ] as const) {
        const res = await n.call(path, { token });
        assert.equal(res.status, 200, path);
        assert.deepEqual(await res.json(), { status }, path);
      }
    }
  });

  it('answers /active and /readyz 503 on a node that is not its group’s active instance', async () => {
    const app = createApiApp({ ctx: { ...n.node.api, state: () => 'passive' } });
    try {
      const active = await app.inject({ method: 'GET', url: '/active' });
      assert.deepEqual(
        [active.statusCode, active.json<{ error: { code: string } }>().error.code],
        [503, 'MW_ERR_NOT_READY'],
      );
      assert.equal(
        (await app.inject({ method: 'GET', url: '/readyz' })).statusCode,
        200,
        'a passive member is ready',
      );
      const joining = createApiApp({ ctx: { ...n.node.api, state: () => 'joining' } });
      assert.equal((await joining.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
      await joining.close();
    } finally {
      await app.close();
    }
  });

  it('exposes Prometheus metrics by actor kind, never by id', async () => {
    await post('/api/v1/actors/domains/rootdomain.ru/messages?reply=true', { type: 'ping' });
    const text = await (await n.call('/metrics')).text();
    assert.match(text, /^mware_actor_messages_total\{kind="domain",node="mware1"\} \d+/m);
    assert.match(text, /^mware_actors\{kind="domain",state="running",node="mware1"\} 3$/m);
    for (const [name, value] of [
      ['mware_coordination_healthy', 1],
      ['mware_coordination_leader', 1],
      ['mware_coordination_epoch', 1],
      ['mware_coordination_leadership_changes_total', 1],
      ['mware_cluster_members_live', 1],
    ] as const)
      assert.match(text, new RegExp(`^${name}\\{group="11120",node="mware1"\\} ${value}$`, 'm'), name);
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
    const doc = await openApi();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/mutex/{key}/lock']?.post?.requestBody);
    for (const id of ['Error', 'TreeNode', 'LockRequest', 'LockGranted', 'ClusterView'])
      assert.ok(doc.components.schemas[id], id);
    // A message's body: one schema per actor kind and public message, from the table the API dispatches by.
    for (const id of [
      'Message.domain.info',
      'Message.domain.ping',
      'Message.mutex.inspect',
      'Message.cluster.status',
    ])
      assert.ok(doc.components.schemas[id], id);
    assert.equal(
      doc.components.schemas['Message.mutex.lock'],
      undefined,
      'lock goes through the mutex facade',
    );
  });

  it('documents every route the server registers, and documents none it does not serve', async () => {
    const doc = await openApi();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const registered = await registeredRoutes();
    // The list really came from the router (a parser that found nothing would make the rest vacuous).
    for (const r of [
      'GET /healthz',
      'GET /readyz',
      'GET /api/v1/logs',
      'GET /api/v1/mutex',
      'POST /api/v1/actors/*',
    ])
      assert.ok(registered.includes(r), `${r} in ${registered.join(', ')}`);

    // Routes that are not part of the documented API: the document itself and the static web view.
    const NOT_API = [
      'GET /api/v1/openapi.json',
      'GET /ui',
      'GET /ui/',
      'GET /ui/app.css',
      'GET /ui/app.js',
      'GET /ui/farm.js',
    ];
    const undocumented = registered.filter((r) => !documented.some((d) => servedBy(d, r)));
    assert.deepEqual(undocumented.sort(), [...NOT_API].sort(), 'registered routes missing from the document');
    const unserved = documented.filter((d) => !registered.some((r) => servedBy(d, r)));
    assert.deepEqual(unserved, [], 'documented operations no route serves');

    // One wildcard route serves every actor action; the actions it takes are those its refusal names.
    const refusal = (
      await expectError(
        await post('/api/v1/actors/domains/rootdomain.ru/no-such-action', {}),
        404,
        'MW_ERR_NOT_FOUND',
      )
    ).error.message;
    const actions = /\{([a-z]+(?:\|[a-z]+)+)\}/.exec(refusal)?.[1]?.split('|') ?? [];
    assert.deepEqual(actions.sort(), ['messages', 'restart', 'start', 'stop'], refusal);
    const documentedActions = documented
      .filter((d) => d.startsWith('POST /api/v1/actors/{path}/'))
      .map((d) => d.slice('POST /api/v1/actors/{path}/'.length));
    assert.deepEqual(documentedActions.sort(), actions);
  });
});

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

async function openApi(): Promise<OpenApiDoc> {
  return (await (await n.call('/api/v1/openapi.json')).json()) as OpenApiDoc;
}

/**
 * `METHOD /url` of every route the API's fastify instance registers (HEAD twins of GET routes left out), read
 * from its router: an instance built by the same code as the node's, over the node's own context.
 */
async function registeredRoutes(): Promise<string[]> {
  const app = createApiApp({ ctx: n.node.api });
  try {
    await app.ready();
    // printRoutes draws the radix tree: each line is a label under its parent, indented 4 columns per level.
    const routes: string[] = [];
    const stack: string[] = [];
    for (const line of app.printRoutes().split('\n')) {
      const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
      if (!m) continue;
      const level = (m[1] ?? '').length / 4;
      stack.length = level;
      stack.push(m[2] ?? '');
      for (const method of m[3]?.split(', ') ?? [])
        if (method !== 'HEAD') routes.push(`${method} ${stack.join('')}`);
    }
    return routes.sort();
  } finally {
    await app.close();
  }
}

/** True when the documented `METHOD /path/{param}` is served by the registered `METHOD /url/:param` or `/url/*`. */
function servedBy(documented: string, registered: string): boolean {
  const [dm, dpath = ''] = documented.split(' ');
  const [rm, rurl = ''] = registered.split(' ');
  if (dm !== rm) return false;
  const asDoc = rurl.replace(/:([A-Za-z_]+)/g, '{$1}');
  if (asDoc.endsWith('/*')) return dpath.startsWith(asDoc.slice(0, -1) + '{path}');
  return asDoc === dpath;
}

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
    const path = await startTestActor(n, 'slow-test-actor');
    const t0 = performance.now();
    const res = await post(`/api/v1/actors${path}/messages?reply=true`, {
      type: 'sleep',
      payload: 10_000,
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

  it('gives the whole-cluster tree of a single node: just this node, active, with its tree and counters', async () => {
    const c = (await (await n.call('/api/v1/tree?scope=cluster', { token: TOKENS.reader })).json()) as {
      cluster: string;
      nodes: {
        name: string;
        group: number;
        role: string;
        state: string;
        self: boolean;
        tree?: { path: string; children?: { id: string }[] };
        stats?: { messages: number; restarts: number; mailbox: number; leadership_changes: number };
        error?: unknown;
      }[];
    };
    assert.equal(c.cluster, 'apitest');
    assert.deepEqual(
      c.nodes.map((x) => [x.name, x.group, x.role, x.state, x.self, x.error]),
      [['mware1', 11120, 'active', 'active', true, undefined]],
    );
    assert.equal(c.nodes[0]?.tree?.path, '/');
    assert.ok(c.nodes[0]?.tree?.children?.some((ch) => ch.id === 'domains'));
    assert.equal(typeof c.nodes[0]?.stats?.messages, 'number');
    await expectError(await n.call('/api/v1/tree?scope=cluster&path=/domains'), 400, 'MW_ERR_BAD_REQUEST');
    await expectError(await n.call('/api/v1/tree?scope=galaxy'), 400, 'MW_ERR_BAD_REQUEST');
    await expectError(
      await n.call('/api/v1/tree?scope=cluster', { token: null }),
      401,
      'MW_ERR_UNAUTHORIZED',
    );
  });

  it('hides a crash’s text from a non-admin in the whole-cluster tree, as in the node’s tree', async () => {
    const path = await startTestActor(n, 'ctree-crasher');
    await post(`/api/v1/actors${path}/messages?reply=true`, { type: 'throw', payload: 'secret-ish detail' });
    const find = async (token: string) => {
      const c = (await (await n.call('/api/v1/tree?scope=cluster', { token })).json()) as {
        nodes: { tree?: TreeLike }[];
      };
      return findNode(c.nodes[0]?.tree, path);
    };
    const admin = await find(TOKENS.admin);
    assert.equal(admin?.restarts, 1);
    assert.match(admin?.lastError?.message ?? '', /secret-ish detail/);
    const reader = await find(TOKENS.reader);
    assert.equal(reader?.restarts, 1);
    assert.equal(reader?.lastError?.code, 'MW_ERR_INTERNAL');
    assert.doesNotMatch(reader?.lastError?.message ?? '', /secret-ish/);
  });

  it('gives the node’s counters as JSON: messages grow as messages flow, restarts count', async () => {
    const stats = async () =>
      (await (await n.call('/api/v1/stats', { token: TOKENS.reader })).json()) as {
        messages: number;
        restarts: number;
        mailbox: number;
        leadership_changes: number;
        active: boolean;
      };
    const before = await stats();
    const path = await startTestActor(n, 'stats-counter');
    for (let i = 0; i < 5; i++)
      await post(`/api/v1/actors${path}/messages?reply=true`, { type: 'inc', payload: 1 });
    await post(`/api/v1/actors${path}/messages?reply=true`, { type: 'throw', payload: 'boom' });
    await waitFor(async () => (await stats()).restarts > before.restarts);
    const after = await stats();
    assert.ok(after.messages >= before.messages + 5, `${before.messages} -> ${after.messages}`);
    assert.equal(after.active, true);
    assert.equal(typeof after.mailbox, 'number');
    assert.equal((await n.call('/api/v1/stats', { token: null })).status, 401);
  });

  it('still knows who is active, and under which epoch, after its cluster actor restarts', async () => {
    assert.equal((await post('/api/v1/actors/cluster/restart', {})).status, 200);
    const c = (await (await n.call('/api/v1/cluster')).json()) as {
      active: string | null;
      epoch: number | null;
      members: { name: string; role: string }[];
    };
    assert.deepEqual(
      [c.active, c.epoch, c.members.map((m) => [m.name, m.role])],
      ['mware1', 1, [['mware1', 'active']]],
    );
  });

  it('streams inspection events as server-sent events', { timeout: 15_000 }, async () => {
    const ac = new AbortController();
    const res = await n.call('/api/v1/events', { signal: ac.signal, token: TOKENS.reader });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const events = sseReader(res);
    try {
      // `hello` is written once the subscription is in place: what happens after it is on the stream.
      await events.until(/event: hello\n/, 5_000);
      await post('/api/v1/actors/domains/rootdomain.ru/restart', {});
      await events.until(/event: restarted\n/, 5_000);
    } finally {
      ac.abort();
    }
    assert.match(events.text, /event: hello\ndata: \{"node":"mware1"/);
    assert.match(events.text, /event: restarted\ndata: \{[^\n]*"path":"\/domains\/rootdomain\.ru"/);
  });

  /** How many log lines the node sends for `query` (checking the stream holds log events only). */
  const logCount = async (query: string) => {
    const res = await n.call(`/api/v1/logs${query}`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const data = [...text.matchAll(/^event: log\ndata: (.*)$/gm)].map((m) => m[1] ?? '');
    assert.equal(data.length, (text.match(/^event: /gm) ?? []).length, 'only log events');
    for (const d of data) assert.equal(typeof JSON.parse(d), 'string', d);
    return data.length;
  };

  it('gives an admin the node’s recent log lines, as many as asked for', { timeout: 15_000 }, async () => {
    const all = await logCount('');
    assert.ok(all > 5, `the node has logged ${all} lines`);
    assert.equal(await logCount('?n=5'), 5);
    assert.equal(await logCount('?n=1'), 1);
    await expectError(await n.call('/api/v1/logs?n=-1'), 400, 'MW_ERR_BAD_REQUEST');
  });

  it('gives no log lines for ?n=0', { timeout: 15_000 }, async () => {
    assert.equal(await logCount('?n=0'), 0);
  });
});

/** Reads a server-sent event stream into `text`; `until` fails (rather than hangs) when nothing matches in time. */
function sseReader(res: Response): { readonly text: string; until(re: RegExp, ms: number): Promise<void> } {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    get text() {
      return text;
    },
    async until(re, ms) {
      const deadline = performance.now() + ms;
      while (!re.test(text)) {
        const left = deadline - performance.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>(
          (r) => (timer = setTimeout(() => r('timeout'), Math.max(0, left))),
        );
        const next = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
        if (next === 'timeout') assert.fail(`no ${re} on the event stream within ${ms} ms; got:\n${text}`);
        if (next.done) assert.fail(`the event stream ended before ${re}; got:\n${text}`);
        text += decoder.decode(next.value, { stream: true });
      }
    },
  };
}

describe('the API: the mutex facade', { timeout: 30_000 }, () => {
  const lock = (key: string, body: Record<string, unknown>, token = TOKENS.scripts) =>
    post(`/api/v1/mutex/${encodeURIComponent(key)}/lock`, body, token);
  const unlock = (key: string, body: Record<string, unknown>) =>
    post(`/api/v1/mutex/${encodeURIComponent(key)}/unlock`, body, TOKENS.scripts);
  const inspect = async (key: string) =>
    (await (await n.call(`/api/v1/mutex/${encodeURIComponent(key)}`)).json()) as {
      key: string;
      holders: { owner: string; mode: string }[];
      waiters: { owner: string; mode: string }[];
    };
  /** Waits until the node reports exactly these waiters on `key`, in this order (so requests queue in a known order). */
  const queued = async (key: string, owners: string[]) => {
    let seen: string[] = [];
    for (const deadline = performance.now() + 5_000; performance.now() < deadline;) {
      seen = (await inspect(key)).waiters.map((w) => w.owner);
      if (JSON.stringify(seen) === JSON.stringify(owners)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`waiters on ${key}: expected ${JSON.stringify(owners)}, still ${JSON.stringify(seen)}`);
  };

  it('grants a free key with a token, and queues the next callers first come first served', async () => {
    const a = (await (await lock('fifo', { owner: 'a' })).json()) as { granted: boolean; token: number };
    assert.ok(a.granted);
    const order: string[] = [];
    const b = lock('fifo', { owner: 'b', wait_ms: 5_000 }).then(
      async (r) => (order.push('b'), (await r.json()) as { token: number }),
    );
    await queued('fifo', ['b']);
    const c = lock('fifo', { owner: 'c', wait_ms: 5_000 }).then(
      async (r) => (order.push('c'), (await r.json()) as { token: number }),
    );
    await queued('fifo', ['b', 'c']);
    assert.equal((await unlock('fifo', { owner: 'a', token: a.token })).status, 200);
    const bt = await b;
    assert.deepEqual(order, ['b']);
    assert.ok(bt.token > a.token);
    await queued('fifo', ['c']);
    await unlock('fifo', { owner: 'b', token: bt.token });
    const ct = await c;
    assert.deepEqual(order, ['b', 'c']);
    assert.ok(ct.token > bt.token);
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
    await queued('rw', ['w']);
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
    await queued('ro-1', ['next']);
    const res = await post('/api/v1/mutex/release-owner', { owner: 'gone' }, TOKENS.mutexOnly);
    assert.deepEqual(await res.json(), { released: 2, cancelled: 0, keys: 2 });
    assert.equal((await waiting).status, 200);
  });

  it('cancels the waits of an owner whose script ended, answering them at once', async () => {
    await lock('rc', { owner: 'holder' });
    const t0 = performance.now();
    const waiting = lock('rc', { owner: 'quitter', wait_ms: 10_000 });
    await queued('rc', ['quitter']);
    const res = await post('/api/v1/mutex/release-owner', { owner: 'quitter' }, TOKENS.mutexOnly);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { released: 0, cancelled: 1, keys: 1 });
    const answer = await waiting;
    assert.ok(performance.now() - t0 < 5_000, 'the wait was cancelled, not run out');
    assert.equal(answer.status, 408);
    assert.deepEqual(await answer.json(), { granted: false, reason: 'released' });
    const info = await inspect('rc');
    assert.deepEqual(
      [info.holders.map((h) => h.owner), info.waiters],
      [['holder'], []],
      'the holder keeps its hold',
    );
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
  it('listens on the role’s internal interface address only', { timeout: 30_000 }, async () => {
    // Not 127.0.0.1, so a server that ignored the role's address would be caught (Linux routes 127/8 to lo).
    const other = await startApiNode({ address: '127.0.0.2' });
    try {
      assert.deepEqual(listeningAddresses(other.port), ['127.0.0.2']);
      assert.equal(other.url, `http://127.0.0.2:${other.port}`);
      assert.deepEqual(await (await other.call('/healthz')).json(), { status: 'ok' });
      assert.equal(await connectError('127.0.0.1', other.port), 'ECONNREFUSED');
    } finally {
      await other.stop();
    }
  });

  it('never writes a token to its log', () => {
    assert.ok(n.logLines.length > 10);
    const all = n.logLines.join('\n');
    for (const t of Object.values(TOKENS)) assert.ok(!all.includes(t), 'a token reached the log');
  });
});

/** The error code of a TCP connection attempt, or 'connected'. */
function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, host);
    sock.setTimeout(3_000, () => (sock.destroy(), resolve('timeout')));
    sock.on('connect', () => (sock.destroy(), resolve('connected')));
    sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

interface TreeLike {
  path: string;
  restarts: number;
  lastError?: { code: string; message: string };
  children?: TreeLike[];
}

function findNode(t: TreeLike | undefined, path: string): TreeLike | undefined {
  if (!t) return undefined;
  if (t.path === path) return t;
  for (const c of t.children ?? []) {
    const f = findNode(c, path);
    if (f) return f;
  }
  return undefined;
}

async function waitFor(cond: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
