import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';

/**
 * The API under fuzzed input (07-quality.md "Bad input"): random methods, paths, headers and bodies, oversized and
 * truncated payloads. Every answer is a documented status with the error shape; the node keeps serving; no secret
 * appears in a response or a log line.
 */

let n: ApiNode;
/** Every status the OpenAPI document gives any operation, and those answered though it lists them nowhere. */
let documented: Set<number>;
before(async () => {
  n = await startApiNode({ mutexIdleMs: 60_000 });
  const doc = (await (await n.call('/api/v1/openapi.json')).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  };
  documented = new Set(
    Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).flatMap((op) => Object.keys(op.responses).map(Number)),
    ),
  );
  for (const s of UNDOCUMENTED_BUT_ANSWERED) documented.add(s);
});
after(async () => {
  await n.stop();
});

const SECRETS = Object.values(TOKENS);
/** 415 (a body that is not JSON) is the API's answer (api.test.ts), yet no operation documents it: reported. */
const UNDOCUMENTED_BUT_ANSWERED = [415];
const ERROR_CODE = /^MW_ERR_[A-Z_]+$/;

const ENDPOINTS = [
  '/healthz',
  '/readyz',
  '/metrics',
  '/api/v1/tree',
  '/api/v1/tree?path=/domains',
  '/api/v1/cluster',
  '/api/v1/openapi.json',
  '/api/v1/actors/domains/rootdomain.ru',
  '/api/v1/actors/domains/rootdomain.ru/messages',
  '/api/v1/actors/domains/rootdomain.ru/messages?reply=true',
  '/api/v1/actors/mutexes/x/messages?reply=true',
  '/api/v1/actors/api/restart',
  '/api/v1/actors/cluster/stop',
  '/api/v1/actors/domains/test.rootdomain.ru/restart',
  '/api/v1/mutex/k/lock',
  '/api/v1/mutex/k/unlock',
  '/api/v1/mutex/release-owner',
  '/api/v1/mutex',
  '/api/v1/mutex/k',
  '/ui',
];

const pathArb = fc.oneof(
  fc.constantFrom(...ENDPOINTS),
  fc
    .constantFrom(...ENDPOINTS)
    .chain((p) => fc.string({ maxLength: 12 }).map((s) => p + encodeURIComponent(s))),
  fc
    .array(
      fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.constantFrom('..', '%00', '%E0%A4%A', '%2F', '*', 'api', 'v1'),
      ),
      { maxLength: 6 },
    )
    .map((xs) => '/' + xs.join('/')),
);

const tokenArb = fc.oneof(
  fc.constantFrom<string | null>(TOKENS.admin, TOKENS.scripts, TOKENS.reader, TOKENS.mutexOnly, null),
  fc
    .string({ maxLength: 40 })
    .filter(
      (s) => !/[\r\n\0]/.test(s) && [...s].every((c) => c.charCodeAt(0) >= 32 && c.charCodeAt(0) < 127),
    ),
);

const bodyArb = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .record({
      type: fc.string({ maxLength: 20 }),
      payload: fc.jsonValue({ maxDepth: 2 }),
      timeout_ms: fc.integer({ min: -5, max: 2_000 }),
    })
    .map((v) => JSON.stringify(v)),
  fc
    .record({
      owner: fc.string({ maxLength: 8 }),
      mode: fc.constantFrom('read', 'write', 'x'),
      wait_ms: fc.integer({ min: -1, max: 200 }),
      hold_ms: fc.integer({ min: 0, max: 2_000 }),
      token: fc.integer(),
    })
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v).slice(0, -1)),
  fc.constant('{"__proto__": {"admin": true}, "type": "ping"}'),
);

/**
 * Checks one answer: a documented status, no secret, and for every 4xx/5xx our one error shape as JSON, whatever the
 * content type claims. The single exception is the lock route's 408, whose documented body is LockNotGranted.
 */
function check(status: number, text: string, contentType: string | null, what: string): void {
  assert.ok(documented.has(status), `${what}: undocumented status ${status}: ${text.slice(0, 300)}`);
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what}: a token in the response`);
  if (status < 400) return;
  assert.match(
    contentType ?? '',
    /^application\/json\b/,
    `${what}: ${status} as ${contentType}: ${text.slice(0, 300)}`,
  );
  let body: unknown;
  assert.doesNotThrow(
    () => (body = JSON.parse(text)),
    `${what}: ${status} with a body that is not JSON: ${text}`,
  );
  if (status === 408) {
    assert.match(what, /^POST \/api\/v1\/mutex\/[^/?]+\/lock(\?|$)/, `${what}: 408 outside the lock route`);
    assert.deepEqual(body, { granted: false, reason: 'timeout' }, `${what}: ${text}`);
    return;
  }
  assertErrorShape(body, `${what}: ${text}`);
}

/** `{error: {code: MW_ERR_…, message, details?}}` and nothing else. */
function assertErrorShape(body: unknown, what: string): void {
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), what);
  assert.deepEqual(Object.keys(body), ['error'], what);
  const error = (body as { error: unknown }).error as Record<string, unknown>;
  assert.ok(error !== null && typeof error === 'object', what);
  assert.match(String(error.code), ERROR_CODE, what);
  assert.equal(typeof error.message, 'string', what);
  for (const k of Object.keys(error))
    assert.ok(['code', 'message', 'details'].includes(k), `${what}: key ${k}`);
  if ('details' in error) assert.equal(typeof error.details, 'object', what);
}

/** A raw HTTP/1.1 answer split into status, headers (lower-cased names) and body. */
function parseHttp(answer: string): { status: number; headers: Map<string, string>; body: string } {
  const end = answer.indexOf('\r\n\r\n');
  assert.ok(end > 0, `not an HTTP answer: ${JSON.stringify(answer.slice(0, 200))}`);
  const [statusLine = '', ...lines] = answer.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
  assert.ok(m, `not an HTTP status line: ${statusLine}`);
  const headers = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const),
  );
  return { status: Number(m[1]), headers, body: answer.slice(end + 4) };
}

/** Writes raw bytes on a fresh connection and returns what came back (for requests fetch would not send). */
function raw(bytes: string, endAfterWrite = true): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(n.port, '127.0.0.1');
    let out = '';
    sock.setTimeout(3_000, () => sock.destroy());
    sock.on('data', (d) => (out += d.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', () => resolve(out));
    sock.write(bytes, () => endAfterWrite && sock.end());
  });
}

describe('the API under fuzzed input', () => {
  it('answers random requests with documented statuses and the error shape, and never with a secret', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        pathArb,
        tokenArb,
        bodyArb,
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined),
        async (method, path, token, body, ctype) => {
          const headers: Record<string, string> = {};
          if (token !== null) headers.authorization = `Bearer ${token}`;
          if (ctype && body !== undefined) headers['content-type'] = ctype;
          const res = await fetch(n.url + path, {
            method,
            headers,
            body: method === 'GET' ? undefined : body,
            signal: AbortSignal.timeout(10_000),
          });
          check(res.status, await res.text(), res.headers.get('content-type'), `${method} ${path}`);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses oversized bodies with 413, before reading them', async () => {
    for (const size of [256 * 1024 + 1, 2 * 1024 * 1024]) {
      const res = await n.call('/api/v1/actors/domains/rootdomain.ru/messages', {
        method: 'POST',
        body: JSON.stringify({ type: 'ping', payload: 'x'.repeat(size) }),
      });
      check(res.status, await res.text(), res.headers.get('content-type'), `oversized ${size}`);
      assert.equal(res.status, 413);
    }
  });

  /**
   * Requests fetch would not send, on raw connections. The complete one with a bad body reaches our handler; the
   * others never parse as HTTP, so Node's parser refuses them and fastify's default clientError handler answers
   * (400, or 431 for an oversized header) before any route runs.
   */
  const auth = `Authorization: Bearer ${TOKENS.admin}\r\n`;
  const RAW = [
    {
      what: 'a body shorter than its Content-Length, then FIN',
      bytes: `POST /api/v1/mutex/k/lock HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"owner":"a"`,
      status: 400,
    },
    {
      what: 'a complete but truncated JSON body',
      bytes: `POST /api/v1/mutex/k/lock HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"own`,
      status: 400,
      code: 'MW_ERR_BAD_JSON',
    },
    { what: 'a request line that is not HTTP', bytes: 'GARBAGE\r\n\r\n', status: 400 },
    {
      what: 'a 100 kB header',
      bytes: `GET /healthz HTTP/1.1\r\nHost: x\r\n${auth}X-Huge: ${'a'.repeat(100_000)}\r\n\r\n`,
      status: 431,
    },
    {
      what: 'headers cut off, then FIN',
      bytes: `GET /api/v1/tree HTTP/1.1\r\nHost: x\r\n${auth}`,
      status: 400,
    },
    { what: 'binary garbage', bytes: '\u0000\u0001\u0002\r\n\r\n', status: 400 },
  ];

  it('survives truncated, malformed and abandoned requests on raw connections', async () => {
    const answers = await Promise.all(RAW.map((r) => raw(r.bytes)));
    RAW.forEach((r, i) => {
      const answer = answers[i] ?? '';
      for (const s of SECRETS) assert.ok(!answer.includes(s), `${r.what}: a token in the answer`);
      const { status, headers, body } = parseHttp(answer);
      assert.equal(status, r.status, `${r.what}: ${answer.slice(0, 300)}`);
      if (r.code) {
        assert.match(headers.get('content-type') ?? '', /^application\/json\b/, r.what);
        assertErrorShape(JSON.parse(body), `${r.what}: ${body}`);
        assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, r.code, body);
      }
    });
  });

  it('answers requests refused before routing in the error shape too', async () => {
    for (const r of RAW.filter((x) => !x.code)) {
      const { body } = parseHttp(await raw(r.bytes));
      assertErrorShape(JSON.parse(body), `${r.what}: ${body}`);
    }
  });

  it('keeps serving afterwards', async () => {
    const res = await n.call('/healthz');
    assert.equal(res.status, 200);
    const ask = await n.call('/api/v1/actors/domains/rootdomain.ru/messages?reply=true', {
      method: 'POST',
      body: '{"type":"ping"}',
    });
    assert.equal(ask.status, 200);
  });

  it('never wrote a secret to the log', () => {
    const all = n.logLines.join('\n');
    for (const s of SECRETS) assert.ok(!all.includes(s), 'a token reached the log');
  });
});
