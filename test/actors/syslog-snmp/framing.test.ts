import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyslogFramer } from '../../../actors/syslog-snmp/framing.ts';

/** Syslog over TCP (RFC 6587): frames split anywhere, both framings, and what is left when the peer closes. */

const text = (r: { frames: Buffer[]; error?: string }) => ({
  frames: r.frames.map((f) => f.toString()),
  error: r.error,
});

describe('syslog TCP framing', () => {
  it('reassembles octet-counted and newline frames split at every byte', () => {
    const stream = Buffer.from('11 <13>1 hello\n<13>Oct  1 host app: two\r\n\n5 three');
    const f = new SyslogFramer(100);
    const got: string[] = [];
    for (const b of stream) got.push(...text(f.push(Buffer.from([b]))).frames);
    assert.deepEqual(got, ['<13>1 hello', '<13>Oct  1 host app: two\r', 'three']);
    assert.deepEqual(text(f.end()), { frames: [], error: undefined });
  });

  it('at close, delivers a last line without its LF, and reports an octet-counted frame cut short', () => {
    const line = new SyslogFramer(100);
    assert.deepEqual(text(line.push(Buffer.from('<13>Oct  1 host app: last'))).frames, []);
    assert.deepEqual(text(line.end()), { frames: ['<13>Oct  1 host app: last'], error: undefined });
    const counted = new SyslogFramer(100);
    assert.deepEqual(text(counted.push(Buffer.from('40 <13>1 only part'))).frames, []);
    assert.deepEqual(text(counted.end()), { frames: [], error: 'truncated frame (18 bytes at close)' });
    assert.deepEqual(text(counted.end()), { frames: [], error: undefined }, 'told once');
  });

  it('refuses a frame longer than the bound, and a count that is not a number', () => {
    assert.match(new SyslogFramer(10).push(Buffer.from('11 <13>1 hello')).error ?? '', /exceeds 10/);
    assert.match(new SyslogFramer(10).push(Buffer.from('1x <13>')).error ?? '', /malformed/);
    assert.match(new SyslogFramer(10).push(Buffer.from('x'.repeat(11))).error ?? '', /line exceeds/);
  });
});
