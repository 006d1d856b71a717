import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import { tempDir } from '../harness/temp.ts';
import { selfSignedCert } from '../harness/certs.ts';

/** The API over TLS (`api.tls`), with a self-signed certificate for 127.0.0.1 made by openssl. */

const dir = tempDir('tls');
const cert = join(dir.path, 'api.crt');
const key = join(dir.path, 'api.key');
let n: ApiNode;

before(async () => {
  selfSignedCert(dir.path, { name: 'api' });
  n = await startApiNode({ tls: { cert, key } });
});
after(async () => {
  await n?.stop();
  dir.cleanup();
});

function get(path: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${n.url}${path}`,
      { headers: { authorization: `Bearer ${TOKENS.admin}` }, ca },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the API over TLS', () => {
  it('serves https with the configured certificate', async () => {
    assert.match(n.url, /^https:\/\/127\.0\.0\.1:/);
    const r = await get('/healthz', readFileSync(cert));
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { status: string }).status, 'ok');
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await assert.rejects(get('/healthz'), /self-signed|self signed/i);
  });
});
