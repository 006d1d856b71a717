import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EslClient } from '../../../src/freeswitch/esl/client.ts';
import type { EslCloseReason } from '../../../src/freeswitch/esl/client.ts';
import type { EslEvent } from '../../../src/freeswitch/esl/event.ts';
import type { FakePeer, PeerConn } from './fake-peer.ts';
import {
  apiResponse,
  disconnectNotice,
  jsonEvent,
  plainEvent,
  startFakePeer,
  trackEscapes,
} from './fake-peer.ts';

/**
 * Events and hostile input over a real socket: json and plain events, FreeSWITCH's encoding of an emoji, a frame
 * a byte at a time, garbage, an oversized frame, a json body that does not parse, a disconnect notice. The
 * process must survive each (nothing may escape as an uncaught exception or unhandled rejection).
 */

const escaped = trackEscapes();
/** FreeSWITCH's URL-encoding of 😀 in a SIP display name: CESU-8 surrogate halves, not UTF-8. */
const EMOJI = '%ED%A0%BD%ED%B8%80';

function code(err: unknown): string {
  return (err as { code: string }).code;
}

describe('EslClient events and hostile frames', () => {
  let peer: FakePeer;
  let conn: PeerConn;
  let client: EslClient;
  let events: EslEvent[];
  let closed: Promise<EslCloseReason>;

  beforeEach(async () => {
    peer = await startFakePeer();
    client = await EslClient.connect({
      host: peer.host,
      port: peer.port,
      password: 'ClueCon',
      maxFrameBytes: 4_096,
      commandTimeoutMs: 2_000,
    });
    conn = await peer.nextConn();
    events = [];
    client.onEvent((e) => events.push(e));
    closed = new Promise((resolve) => client.onClose(resolve));
  });
  afterEach(async () => {
    client.close();
    await peer.close();
    assert.deepEqual(escaped.splice(0), []);
  });

  /** Round trip through an api call: every frame sent before it has been handled when it resolves. */
  async function flush(): Promise<void> {
    const p = client.api('status');
    await conn.nextCommand();
    conn.send(apiResponse('UP'));
    assert.equal(await p, 'UP');
  }

  it('delivers a json event with its headers (an array header as FreeSWITCH writes it) and body', async () => {
    conn.send(
      jsonEvent({
        'Event-Name': 'CHANNEL_CREATE',
        'Core-UUID': 'core-1',
        'Unique-ID': 'leg-a',
        'Caller-Caller-ID-Name': '😀 Bob',
        variable_list: ['a', 'b'],
        'Content-Length': '5',
        _body: 'hello',
      }),
    );
    await flush();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.name, 'CHANNEL_CREATE');
    assert.equal(events[0]?.headers['Unique-ID'], 'leg-a');
    assert.equal(events[0]?.headers['Caller-Caller-ID-Name'], '😀 Bob');
    assert.equal(events[0]?.headers.variable_list, 'ARRAY::a|:b');
    assert.equal(events[0]?.body, 'hello');
  });

  it('delivers a plain event decoded, keeping the emoji surrogate header raw, and stays up', async () => {
    assert.throws(() => decodeURIComponent(EMOJI), URIError, 'the header modesl would decode unguarded');
    conn.send(
      plainEvent(
        {
          'Event-Name': 'CHANNEL_ANSWER',
          'Core-UUID': 'core-1',
          'Unique-ID': 'leg-b',
          'Caller-Caller-ID-Name': `${EMOJI}%20Alice`,
          'Event-Date-Local': '2026-12-02%2014%3A21%3A56',
        },
        'line one\nline two',
      ),
    );
    await flush();
    assert.equal(events.length, 1);
    const e = events[0];
    assert.equal(e?.name, 'CHANNEL_ANSWER');
    assert.equal(e?.headers['Caller-Caller-ID-Name'], `${EMOJI}%20Alice`);
    assert.equal(e?.headers['Event-Date-Local'], '2026-12-02 14:21:56');
    assert.equal(e?.body, 'line one\nline two');
    assert.equal(client.closed, false);
  });

  it('parses frames arriving one byte at a time', async () => {
    const p = client.api('status');
    await conn.nextCommand();
    await conn.sendBytewise(
      apiResponse('UP 1 day') +
        jsonEvent({ 'Event-Name': 'HEARTBEAT', 'Core-UUID': 'c', 'Session-Count': '7' }),
    );
    assert.equal(await p, 'UP 1 day');
    await flush();
    assert.deepEqual(
      events.map((e) => [e.name, e.headers['Session-Count']]),
      [['HEARTBEAT', '7']],
    );
  });

  it('closes with a protocol error on garbage, failing pending commands', async () => {
    const p = client.api('status');
    await conn.nextCommand();
    conn.send(Buffer.from('\x00\xffGARBAGE garbage\r\nmore: \x01\n\nrest'));
    const r = await closed;
    assert.equal(r.kind, 'protocol');
    assert.equal(r.kind === 'protocol' && code(r.error), 'MW_ERR_ESL_PROTOCOL');
    await assert.rejects(p, (err) => code(err) === 'MW_ERR_ESL_CONNECTION_LOST');
    assert.equal(client.closed, true);
  });

  it('closes at once on an oversized Content-Length, before the body arrives', async () => {
    conn.send('Content-Type: api/response\nContent-Length: 999999999\n\nonly a little');
    const r = await closed;
    assert.equal(r.kind, 'protocol');
    assert.match(r.kind === 'protocol' ? r.error.message : '', /999999999 bytes above the limit of 4096/);
  });

  it('closes on a header block growing past maxFrameBytes without its blank line', async () => {
    conn.send(`X-Endless: ${'y'.repeat(5_000)}`);
    const r = await closed;
    assert.equal(r.kind, 'protocol');
  });

  it('delivers the events before a json body that does not parse, then closes with a protocol error', async () => {
    conn.send(jsonEvent({ 'Event-Name': 'HEARTBEAT', 'Core-UUID': 'c' }));
    const bad = '{"Event-Name": "CHANNEL_HANGUP", "Unique-ID": ';
    conn.send(`Content-Length: ${bad.length}\nContent-Type: text/event-json\n\n${bad}`);
    const r = await closed;
    assert.equal(r.kind, 'protocol');
    assert.match(r.kind === 'protocol' ? r.error.message : '', /does not parse/);
    assert.deepEqual(
      events.map((e) => e.name),
      ['HEARTBEAT'],
    );
  });

  it('surfaces a disconnect-notice as the close reason and fails pending commands', async () => {
    const p = client.api('status');
    await conn.nextCommand();
    conn.send(disconnectNotice('killed listener because of lost events\n'));
    const r = await closed;
    assert.deepEqual(r, { kind: 'disconnect-notice', text: 'killed listener because of lost events' });
    await assert.rejects(p, (err) => {
      assert.equal(code(err), 'MW_ERR_ESL_CONNECTION_LOST');
      assert.match((err as Error).message, /disconnect-notice: killed listener/);
      return true;
    });
  });

  it('keeps delivering to other listeners when one throws', async () => {
    client.onEvent(() => {
      throw new Error('listener bug');
    });
    const seen: string[] = [];
    client.onEvent((e) => seen.push(e.name));
    conn.send(jsonEvent({ 'Event-Name': 'HEARTBEAT', 'Core-UUID': 'c' }));
    conn.send(jsonEvent({ 'Event-Name': 'CHANNEL_CREATE', 'Core-UUID': 'c' }));
    await flush();
    assert.deepEqual(seen, ['HEARTBEAT', 'CHANNEL_CREATE']);
    assert.equal(client.closed, false);
  });

  it('unsubscribes a listener', async () => {
    const seen: string[] = [];
    const off = client.onEvent((e) => seen.push(e.name));
    conn.send(jsonEvent({ 'Event-Name': 'HEARTBEAT', 'Core-UUID': 'c' }));
    await flush();
    off();
    conn.send(jsonEvent({ 'Event-Name': 'CHANNEL_CREATE', 'Core-UUID': 'c' }));
    await flush();
    assert.deepEqual(seen, ['HEARTBEAT']);
  });
});
