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
before(async () => {
  n = await startApiNode({ mutexIdleMs: 60_000 });
});
after(async () => {
  await n.stop();
});

const SECRETS = Object.values(TOKENS);
const DOCUMENTED = new Set([200, 202, 400, 401, 403, 404, 408, 409, 413, 415, 503, 504]);

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

function check(status: number, text: string, contentType: string | null, what: string): void {
  assert.ok(DOCUMENTED.has(status), `${what}: undocumented status ${status}: ${text.slice(0, 300)}`);
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what}: a token in the response`);
  if (status >= 400 && status !== 408 && contentType?.includes('json')) {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    assert.match(String(body.error?.code), /^MW_ERR_[A-Z_]+$/, `${what}: ${text}`);
    assert.equal(typeof body.error?.message, 'string');
  }
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

  it('survives truncated, malformed and abandoned requests on raw connections', async () => {
    const auth = `Authorization: Bearer ${TOKENS.admin}\r\n`;
    const answers = await Promise.all([
      raw(
        `POST /api/v1/mutex/k/lock HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"owner":"a"`,
      ),
      raw(
        `POST /api/v1/mutex/k/lock HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"own`,
      ),
      raw('GARBAGE\r\n\r\n'),
      raw(`GET /healthz HTTP/1.1\r\nHost: x\r\n${auth}X-Huge: ${'a'.repeat(100_000)}\r\n\r\n`),
      raw(`GET /api/v1/tree HTTP/1.1\r\nHost: x\r\n${auth}`, true),
      raw('\u0000\u0001\u0002\r\n\r\n'),
    ]);
    for (const a of answers) for (const s of SECRETS) assert.ok(!a.includes(s));
    assert.match(answers[1] ?? '', /^HTTP\/1\.1 400/);
    assert.match(answers[2] ?? '', /^HTTP\/1\.1 400/);
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
