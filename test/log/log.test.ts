import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseTopologyText } from '../../topology/load.ts';
import { createLogger } from '../../src/log/log.ts';
import { REDACTED } from '../../src/redaction.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().trim().split('\n'));
      cb();
    },
  });
  return { lines, destination };
}

describe('the logger', () => {
  it('tags every line with node and group, and actor lines with their path', () => {
    const c = capture();
    const log = createLogger({ node: 'mware1', group: 11120, destination: c.destination });
    log.child({ path: '/mutexes/k' }).info('granted');
    const line = JSON.parse(c.lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(line.node, 'mware1');
    assert.equal(line.group, 11120);
    assert.equal(line.path, '/mutexes/k');
  });

  it('redacts secret fields wherever they sit in a logged object', () => {
    const c = capture();
    const log = createLogger({ destination: c.destination });
    log.info(
      {
        token: 't0p',
        server: { ssh_pwd: 'pw1', nested: { pg_replica_pwd: 'pw2' } },
        headers: { authorization: 'Bearer xyz' },
      },
      'x',
    );
    const text = c.lines.join('\n');
    for (const s of ['t0p', 'pw1', 'pw2', 'xyz']) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
    assert.ok(text.includes(REDACTED));
  });

  it('scrubs every resolved secret value from any line, even inside free text', () => {
    const c = capture();
    const log = createLogger({ secrets: ['s3cr3t-Value-Θ', 'quote"d-secret'], destination: c.destination });
    log.error(
      { err: { message: 'connect failed for redis://user:s3cr3t-Value-Θ@127.0.0.1' } },
      'password was quote"d-secret',
    );
    log.info('Authorization: Bearer abc.def-ghi');
    const text = c.lines.join('\n');
    assert.ok(
      !text.includes('s3cr3t-Value-Θ') && !text.includes('quote\\"d-secret') && !text.includes('abc.def-ghi'),
      text,
    );
    assert.equal(text.split(REDACTED).length - 1, 3);
  });

  it('scrubs from every line the secrets a topology file references or holds in a secret field', () => {
    const doc = parse(
      readFileSync(new URL('../../config/topology.example.yaml', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    doc.security = {
      cluster_secret: 'literal-cluster-secret-0123',
      api_tokens: [
        { name: 'scripts', token: '${env:SCRIPTS_TOKEN}', scopes: ['send'] },
        { name: 'ops', token: '${file:ops.token}', scopes: ['admin'] },
      ],
    };
    const secrets = ['literal-cluster-secret-0123', 'from-the-environment-1', 'from-a-file-0123456789'];
    const loaded = parseTopologyText(stringify(doc), 't.yaml', {
      env: { SCRIPTS_TOKEN: 'from-the-environment-1' },
      baseDir: '/topology',
      readFile: () => 'from-a-file-0123456789\n',
    });
    assert.ok(loaded.ok);
    const c = capture();
    const log = createLogger({ secrets: loaded.secrets, destination: c.destination });
    log.warn({ detail: `tried ${secrets.join(' and ')}` }, `free text: ${secrets.join(', ')}`);
    const text = c.lines.join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
    assert.equal(text.split(REDACTED).length - 1, 6);
  });
});
