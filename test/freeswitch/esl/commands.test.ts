import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EslClient } from '../../../src/freeswitch/esl/client.ts';
import type { EslCloseReason } from '../../../src/freeswitch/esl/client.ts';
import type { EslEvent } from '../../../src/freeswitch/esl/event.ts';
import type { FakePeer, PeerConn } from './fake-peer.ts';
import {
  apiResponse,
  backgroundJob,
  bgapiReply,
  commandReply,
  startFakePeer,
  trackEscapes,
} from './fake-peer.ts';

/** api / bgapi / event / filter: reply matching, deadlines, a dropped socket — against a scripted raw-TCP peer. */

const escaped = trackEscapes();

function code(err: unknown): string {
  return (err as { code: string }).code;
}

function details(err: unknown): Record<string, unknown> {
  return (err as { details: Record<string, unknown> }).details;
}

describe('EslClient commands', () => {
  let peer: FakePeer;
  let conn: PeerConn;
  let client: EslClient;

  beforeEach(async () => {
    peer = await startFakePeer();
    client = await EslClient.connect({
      host: peer.host,
      port: peer.port,
      password: 'ClueCon',
      commandTimeoutMs: 2_000,
    });
    conn = await peer.nextConn();
  });
  afterEach(async () => {
    client.close();
    await peer.close();
    assert.deepEqual(escaped.splice(0), []);
  });

  it('matches concurrent api calls to their responses in order, and returns a -ERR body', async () => {
    const calls = [client.api('status'), client.api('global_getvar core_uuid'), client.api('nonesuch x')];
    assert.deepEqual(await conn.takeCommands(3), [
      'api status',
      'api global_getvar core_uuid',
      'api nonesuch x',
    ]);
    conn.send(apiResponse('UP 0 years'));
    conn.send(apiResponse('0b5f-core'));
    conn.send(apiResponse('-ERR nonesuch Command not found!\n'));
    assert.deepEqual(await Promise.all(calls), [
      'UP 0 years',
      '0b5f-core',
      '-ERR nonesuch Command not found!\n',
    ]);
  });

  it('swallows the late reply of a timed-out command: the next command gets its own', async () => {
    const slow = client.api('originate {secret=hunter2}sofia/x 1000', { timeoutMs: 150 });
    assert.equal(await conn.nextCommand(), 'api originate {secret=hunter2}sofia/x 1000');
    await assert.rejects(slow, (err) => {
      assert.equal(code(err), 'MW_ERR_ESL_TIMEOUT');
      assert.equal(details(err).command, 'originate');
      assert.equal(details(err).kind, 'api');
      assert.ok(!String(err).includes('hunter2'), 'only the first word of a command is named');
      return true;
    });
    const next = client.api('status');
    assert.equal(await conn.nextCommand(), 'api status');
    conn.send(apiResponse('+OK late-originate-uuid'));
    conn.send(apiResponse('UP'));
    assert.equal(await next, 'UP');
    assert.equal(client.closed, false);
  });

  it('matches bgapi results by Job-UUID, with other jobs interleaved and reply and job in one chunk', async () => {
    const seen: EslEvent[] = [];
    client.onEvent((e) => seen.push(e));
    const a = client.bgapi('fsctl recover');
    const b = client.bgapi('status');
    assert.deepEqual(await conn.takeCommands(3), [
      'event json BACKGROUND_JOB',
      'bgapi fsctl recover',
      'bgapi status',
    ]);
    // One write: the replies, a job of another listener, b's result before a's.
    conn.send(
      commandReply('+OK event listener enabled json') +
        bgapiReply('job-a') +
        bgapiReply('job-b') +
        backgroundJob('job-other', 'not ours') +
        backgroundJob('job-b', 'UP 0 years'),
    );
    assert.equal(await b, 'UP 0 years');
    conn.send(backgroundJob('job-a', '+OK 10 session(s) recovered in total\n'));
    assert.equal(await a, '+OK 10 session(s) recovered in total\n');
    assert.deepEqual(
      seen.map((e) => e.headers['Job-UUID']),
      ['job-other', 'job-b', 'job-a'],
      'every BACKGROUND_JOB still reaches the listeners',
    );
    // Subscribed once: the next bgapi goes out alone.
    const c = client.bgapi('version');
    assert.equal(await conn.nextCommand(), 'bgapi version');
    conn.send(bgapiReply('job-c') + backgroundJob('job-c', 'FreeSWITCH 1.10.12'));
    assert.equal(await c, 'FreeSWITCH 1.10.12');
  });

  it('fails a bgapi answered -ERR with EslCommandFailed, and one whose job never comes with EslTimeout', async () => {
    const refused = client.bgapi('nonesuch');
    const silent = client.bgapi('status', { timeoutMs: 200 });
    await conn.takeCommands(3);
    conn.send(commandReply('+OK event listener enabled json'));
    conn.send(commandReply('-ERR nonesuch Command not found!'));
    conn.send(bgapiReply('job-silent'));
    await assert.rejects(refused, (err) => code(err) === 'MW_ERR_ESL_COMMAND');
    await assert.rejects(
      silent,
      (err) => code(err) === 'MW_ERR_ESL_TIMEOUT' && details(err).waitingFor === 'job',
    );
    // Its late result is no longer awaited but is still an event; the connection is fine.
    conn.send(backgroundJob('job-silent', 'UP'));
    const next = client.api('status');
    await conn.nextCommand();
    conn.send(apiResponse('UP'));
    assert.equal(await next, 'UP');
  });

  it('fails every pending command with EslConnectionLost when the socket drops', async () => {
    const closes: EslCloseReason[] = [];
    client.onClose((r) => closes.push(r));
    const pending = [
      client.api('status'),
      client.bgapi('fsctl recover'),
      client.filter('Unique-ID', 'abc'),
      client.subscribe(['CHANNEL_CREATE']),
    ];
    await conn.takeCommands(6);
    // The bgapi got its Job-UUID; its job, the filters and the event command are still pending.
    conn.send(apiResponse('UP') + commandReply('+OK event listener enabled json') + bgapiReply('job-1'));
    assert.equal(await pending[0], 'UP');
    conn.destroy();
    for (const p of pending.slice(1)) {
      await assert.rejects(p, (err) => {
        assert.equal(code(err), 'MW_ERR_ESL_CONNECTION_LOST');
        return true;
      });
    }
    assert.equal(closes.length, 1);
    assert.ok(closes[0]?.kind === 'closed' || closes[0]?.kind === 'error');
    await assert.rejects(client.api('status'), (err) => code(err) === 'MW_ERR_ESL_CONNECTION_LOST');
  });

  it('close() fails pending commands with EslConnectionLost and reports closed once', async () => {
    const closes: EslCloseReason[] = [];
    client.onClose((r) => closes.push(r));
    const p = client.api('status');
    await conn.nextCommand();
    client.close();
    await assert.rejects(p, (err) => code(err) === 'MW_ERR_ESL_CONNECTION_LOST');
    assert.deepEqual(closes, [{ kind: 'closed' }]);
  });

  it('subscribes in json with BACKGROUND_JOB, and guards BACKGROUND_JOB before the first filter', async () => {
    const sub = client.subscribe(['CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_CREATE']);
    assert.equal(
      await conn.nextCommand(),
      'event json BACKGROUND_JOB CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE',
    );
    conn.send(commandReply('+OK event listener enabled json'));
    await sub;
    const f1 = client.filter('Event-Subclass', 'sofia::recovery_recovered');
    const f2 = client.filter('Unique-ID', 'abc');
    assert.deepEqual(await conn.takeCommands(3), [
      'filter Event-Name BACKGROUND_JOB',
      'filter Event-Subclass sofia::recovery_recovered',
      'filter Unique-ID abc',
    ]);
    conn.send(commandReply('+OK filter added. [Event-Name]=[BACKGROUND_JOB]'));
    conn.send(commandReply('+OK filter added.'));
    conn.send(commandReply('-ERR invalid filter'));
    await f1;
    await assert.rejects(f2, (err) => code(err) === 'MW_ERR_ESL_COMMAND');
  });

  it('rejects a command holding a line break without writing anything', async () => {
    await assert.rejects(client.api('status\n\nauth x'), (err) => code(err) === 'MW_ERR_ESL_INVALID_COMMAND');
    await assert.rejects(client.bgapi(''), (err) => code(err) === 'MW_ERR_ESL_INVALID_COMMAND');
    await assert.rejects(
      client.filter('Unique-ID', 'a\nb'),
      (err) => code(err) === 'MW_ERR_ESL_INVALID_COMMAND',
    );
    const ok = client.api('status');
    assert.equal(await conn.nextCommand(), 'api status', 'the refused commands wrote nothing');
    conn.send(apiResponse('UP'));
    assert.equal(await ok, 'UP');
  });

  it('closes with a protocol error on a reply nobody asked for', async () => {
    const reason = new Promise<EslCloseReason>((resolve) => client.onClose(resolve));
    conn.send(apiResponse('unasked'));
    const r = await reason;
    assert.equal(r.kind, 'protocol');
    assert.equal(r.kind === 'protocol' && code(r.error), 'MW_ERR_ESL_PROTOCOL');
  });
});
