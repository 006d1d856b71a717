import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHeaderValue, headerString, toEslEvent } from '../../../src/freeswitch/esl/event.ts';
import type { Frame } from '../../../src/freeswitch/esl/modesl.ts';
import { FrameDecoder } from '../../../src/freeswitch/esl/modesl.ts';
import { apiResponse, backgroundJob, bgapiReply, GREETING, jsonEvent, plainEvent } from './fake-peer.ts';

/** The frame decoder (modesl's Parser behind mware's guards) and the event parse step, without sockets. */

function decoder(maxFrameBytes = 1 << 20): { d: FrameDecoder; frames: Frame[]; raw: string[] } {
  const frames: Frame[] = [];
  const raw: string[] = [];
  const d = new FrameDecoder({
    maxFrameBytes,
    onFrame: (f) => frames.push(f),
    onUndecodable: (n) => raw.push(n),
  });
  return { d, frames, raw };
}

const STREAM =
  GREETING +
  apiResponse('UP 0 years, 0 days\n') +
  bgapiReply('job-1') +
  jsonEvent({
    'Event-Name': 'CHANNEL_CREATE',
    'Core-UUID': 'c',
    'Unique-ID': 'u1',
    'Caller-Caller-ID-Name': 'Zoë',
  }) +
  plainEvent({ 'Event-Name': 'HEARTBEAT', 'Core-UUID': 'c', 'Up-Time': '0%20years' }, 'body\n') +
  backgroundJob('job-1', '+OK done');

function summary(frames: Frame[]): unknown[] {
  return frames.map((f) => {
    switch (f.type) {
      case 'api/response':
        return [f.type, f.body];
      case 'command/reply':
        return [f.type, f.reply, f.headers['Job-UUID']];
      case 'event':
        return [
          f.type,
          f.event.name,
          f.event.headers['Unique-ID'] ?? f.event.headers['Up-Time'],
          f.event.body,
        ];
      case 'auth/request':
      case 'disconnect-notice':
      case 'rude-rejection':
      case 'log':
        return [f.type];
    }
  });
}

const EXPECTED = [
  ['auth/request'],
  ['api/response', 'UP 0 years, 0 days\n'],
  ['command/reply', '+OK Job-UUID: job-1', 'job-1'],
  ['event', 'CHANNEL_CREATE', 'u1', undefined],
  ['event', 'HEARTBEAT', '0 years', 'body\n'],
  ['event', 'BACKGROUND_JOB', undefined, '+OK done'],
];

describe('FrameDecoder', () => {
  it('decodes a stream pushed in one chunk', () => {
    const { d, frames } = decoder();
    d.push(Buffer.from(STREAM));
    assert.deepEqual(summary(frames), EXPECTED);
  });

  it('decodes the same stream pushed one byte at a time (a multi-byte character split too)', () => {
    const { d, frames } = decoder();
    for (const byte of Buffer.from(STREAM)) d.push(Buffer.from([byte]));
    assert.deepEqual(summary(frames), EXPECTED);
    const create = frames[3];
    assert.equal(create?.type === 'event' && create.event.headers['Caller-Caller-ID-Name'], 'Zoë');
  });

  it('decodes one chunk of 20,000 small replies (modesl recurses per frame: the chunk is fed in pieces)', () => {
    const { d, frames } = decoder();
    d.push(Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n'.repeat(20_000)));
    assert.equal(frames.length, 20_000);
  });

  it('keeps an undecodable plain header raw and reports its name', () => {
    const { d, frames, raw } = decoder();
    d.push(
      Buffer.from(plainEvent({ 'Event-Name': 'CUSTOM', 'Caller-Caller-ID-Name': '%ED%A0%BD%ED%B8%80' })),
    );
    assert.equal(frames.length, 1);
    const f = frames[0];
    assert.equal(f?.type === 'event' && f.event.headers['Caller-Caller-ID-Name'], '%ED%A0%BD%ED%B8%80');
    assert.deepEqual(raw, ['Caller-Caller-ID-Name']);
  });

  for (const [what, bytes] of [
    ['a frame without Content-Type', 'Reply-Text: +OK\n\n'],
    ['an unknown Content-Type', 'Content-Type: text/html\n\n'],
    ['a header line without ": "', 'Content-Type: command/reply\nnonsense\n\n'],
    ['a negative Content-Length', 'Content-Type: api/response\nContent-Length: -5\n\n'],
    ['a Content-Length that is not a number', 'Content-Type: api/response\nContent-Length: 12abc\n\n'],
    ['an oversized Content-Length', 'Content-Type: api/response\nContent-Length: 2048\n\n'],
    ['an event without Event-Name', jsonEvent({ 'Core-UUID': 'c' })],
    ['a json body that does not parse', 'Content-Length: 3\nContent-Type: text/event-json\n\n{"a'],
    ['an xml body that does not parse', 'Content-Length: 5\nContent-Type: text/event-xml\n\n<a><b'],
    ['an unterminated header block above the limit', `Content-Type: api/response\nX: ${'z'.repeat(1_100)}`],
  ] as const) {
    it(`throws EslProtocolError on ${what}, and is spent afterwards`, () => {
      const { d } = decoder(1_024);
      assert.throws(
        () => d.push(Buffer.from(bytes)),
        (err) => (err as { code: string }).code === 'MW_ERR_ESL_PROTOCOL',
      );
      assert.throws(() => d.push(Buffer.from(GREETING)), /after a protocol error/);
    });
  }
});

describe('the event parse step', () => {
  it('decodes %-sequences and keeps a value it cannot decode', () => {
    assert.equal(decodeHeaderValue('a%20b%3Ac'), 'a b:c');
    assert.equal(decodeHeaderValue('%ED%A0%BD%ED%B8%80'), '%ED%A0%BD%ED%B8%80');
    assert.equal(decodeHeaderValue('100%'), '100%');
    assert.equal(decodeHeaderValue('plain'), 'plain');
  });

  it('writes values as strings, arrays as FreeSWITCH plain does', () => {
    assert.equal(headerString(['x', 'y', 'z']), 'ARRAY::x|:y|:z');
    assert.equal(headerString(42), '42');
    assert.equal(headerString(null), '');
  });

  it('turns a header list into an event, refusing one without Event-Name', () => {
    assert.deepEqual(
      toEslEvent({
        headers: [
          { name: 'Event-Name', value: 'HEARTBEAT' },
          { name: 'Content-Length', value: 2 },
        ],
        body: 'ok',
      }),
      { name: 'HEARTBEAT', headers: { 'Event-Name': 'HEARTBEAT', 'Content-Length': '2' }, body: 'ok' },
    );
    assert.equal(toEslEvent({ headers: [{ name: 'Core-UUID', value: 'c' }] }), undefined);
    const proto = toEslEvent({
      headers: [
        { name: 'Event-Name', value: 'X' },
        { name: '__proto__', value: 'polluted' },
      ],
    });
    assert.equal(Object.getPrototypeOf(proto?.headers), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(proto?.headers, '__proto__')?.value, 'polluted');
  });
});
