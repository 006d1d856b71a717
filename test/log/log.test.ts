import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, REDACTED } from '../../src/log/log.ts';

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
});
