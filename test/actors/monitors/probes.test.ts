import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { createServer } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { probeRunner } from '../../../actors/monitors/probe.ts';
import { Probe } from '../../../topology/schema.ts';
import type { Snmpd } from '../../harness/index.ts';
import { freePort, selfSignedCert, startSnmpd, SYS_LOCATION, tempDir } from '../../harness/index.ts';
import type { HttpStub, TcpListener } from './listeners.ts';
import { httpStub, listenTcp } from './listeners.ts';

/**
 * Starts: one real snmpd (net-snmp agent, v2c community `mwread`), a TCP listener, an HTTP server and an HTTPS server
 * (a self-signed certificate made by openssl) on 127.0.0.1.
 */

let snmpd: Snmpd;
let tcp: TcpListener;
let http: HttpStub;
let https: Server;
let httpsPort: number;
const tls = tempDir('mw-probe-tls');

before(async () => {
  [snmpd, tcp, http] = await Promise.all([
    startSnmpd({ community: 'mwread', location: 'rack-7' }),
    listenTcp(),
    httpStub({
      status: 200,
      body: '{"status":"active","sync":{"last":"2026-01-01T00:00:00Z"},"items":[1,2]}',
    }),
  ]);
});
after(async () => {
  await Promise.all([snmpd?.stop(), tcp?.close(), http?.close()]);
  https?.closeAllConnections();
  await new Promise((r) => (https ? https.close(r) : r(undefined)));
  tls.cleanup();
});

before(async () => {
  const { cert, key } = selfSignedCert(tls.path);
  https = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"active"}'),
  );
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  const addr = https.address();
  httpsPort = typeof addr === 'object' && addr ? addr.port : 0;
});

const run = (p: unknown) => probeRunner(Probe.parse(p)).run();

describe('tcp probe', () => {
  it('passes when the port accepts a connection', async () => {
    const r = await run({ type: 'tcp', host: '127.0.0.1', port: tcp.port });
    assert.equal(r.ok, true);
  });

  it('fails with MW_ERR_PROBE_FAILED naming the refusal when nothing listens', async () => {
    const r = await run({ type: 'tcp', host: '127.0.0.1', port: await freePort() });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.code === 'MW_ERR_PROBE_FAILED' && /ECONNREFUSED/.test(r.error), JSON.stringify(r));
  });
});

describe('http-json probe', () => {
  const probe = (extra: Record<string, unknown>) => ({
    type: 'http-json',
    url: http.url('/status'),
    ...extra,
  });

  it('answers the value at json_path, and passes when it is the expected one', async () => {
    assert.deepEqual(
      await run(probe({ json_path: 'sync.last' })).then((r) => r.ok && r.value),
      '2026-01-01T00:00:00Z',
    );
    assert.equal((await run(probe({ json_path: 'items.1', expect: 2 }))).ok, true);
    assert.equal((await run(probe({ json_path: 'status', expect: 'active' }))).ok, true);
  });

  it('fails with MW_ERR_PROBE_MISMATCH on another value or nothing at the path', async () => {
    const other = await run(probe({ json_path: 'status', expect: 'passive' }));
    assert.ok(!other.ok && other.code === 'MW_ERR_PROBE_MISMATCH', JSON.stringify(other));
    assert.match(other.ok ? '' : other.error, /got "active", expected "passive"/);
    const none = await run(probe({ json_path: 'sync.first' }));
    assert.ok(!none.ok && none.code === 'MW_ERR_PROBE_MISMATCH' && /nothing at sync.first/.test(none.error));
  });

  it('fails on a status other than 2xx (a passive node answers /active with 503) and on a body that is not JSON', async () => {
    const saved = http.answer;
    try {
      http.answer = { status: 503, body: '{"status":"passive"}' };
      const r = await run(probe({}));
      assert.ok(!r.ok && r.code === 'MW_ERR_PROBE_FAILED' && /HTTP 503/.test(r.error), JSON.stringify(r));
      http.answer = { status: 200, body: '<html>' };
      const g = await run(probe({}));
      assert.ok(!g.ok && /not JSON/.test(g.error), JSON.stringify(g));
    } finally {
      http.answer = saved;
    }
  });

  it('fails with MW_ERR_PROBE_TIMEOUT when the server never answers', async () => {
    const saved = http.answer;
    try {
      http.answer = { ...saved, hang: true };
      const r = await run(probe({ timeout_ms: 150 }));
      assert.ok(!r.ok && r.code === 'MW_ERR_PROBE_TIMEOUT', JSON.stringify(r));
      assert.ok(r.ms >= 140 && r.ms < 2_000, `took ${r.ms} ms`);
    } finally {
      http.answer = saved;
    }
  });

  it('checks an https certificate unless tls_verify is false', async () => {
    const url = `https://127.0.0.1:${httpsPort}/active`;
    const strict = await run({ type: 'http-json', url, json_path: 'status' });
    assert.ok(!strict.ok && strict.code === 'MW_ERR_PROBE_FAILED', JSON.stringify(strict));
    assert.match(strict.ok ? '' : strict.error, /SELF_SIGNED|self.signed/i);
    const lax = await run({
      type: 'http-json',
      url,
      json_path: 'status',
      expect: 'active',
      tls_verify: false,
    });
    assert.equal(lax.ok, true, JSON.stringify(lax));
  });

  it('names its target without the URL user-info or query', () => {
    const p = probeRunner(
      Probe.parse({ type: 'http-json', url: 'http://ops:s3cret-pw@127.0.0.1:9/st?token=abc' }),
    );
    assert.equal(p.target, 'http-json http://127.0.0.1:9/st');
  });
});

describe('snmp-get probe (against a real snmpd)', () => {
  const probe = (extra: Record<string, unknown>) => ({
    type: 'snmp-get',
    host: '127.0.0.1',
    port: snmpd.port,
    community: 'mwread',
    oid: SYS_LOCATION,
    timeout_ms: 1_000,
    ...extra,
  });

  it("reads the agent's value and passes when it is the expected one", async () => {
    const r = await run(probe({ expect: 'rack-7' }));
    assert.deepEqual(r.ok && r.value, 'rack-7');
  });

  it('fails on another value, an OID the agent does not have, and a wrong community (no answer)', async () => {
    const other = await run(probe({ expect: 'rack-8' }));
    assert.ok(!other.ok && other.code === 'MW_ERR_PROBE_MISMATCH', JSON.stringify(other));
    const missing = await run(probe({ oid: '1.3.6.1.4.1.32473.99.1.0' }));
    assert.ok(!missing.ok && missing.code === 'MW_ERR_PROBE_FAILED', JSON.stringify(missing));
    // snmpd drops a request with an unknown community without a word.
    const stranger = await run(probe({ community: 'guess', timeout_ms: 200 }));
    assert.ok(!stranger.ok && stranger.code === 'MW_ERR_PROBE_TIMEOUT', JSON.stringify(stranger));
  });
});
