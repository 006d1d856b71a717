import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EslClient } from '../../../src/freeswitch/esl/client.ts';
import type { EslCloseReason } from '../../../src/freeswitch/esl/client.ts';
import { freePort } from '../../harness/ports.ts';
import type { FakePeer } from './fake-peer.ts';
import { rudeRejection, startFakePeer, trackEscapes } from './fake-peer.ts';

/** Connecting and authenticating, against a scripted raw-TCP ESL peer (no FreeSWITCH, no simulator). */

const SECRET = 'esl-secret-never-printed-7731';
const escaped = trackEscapes();

function assertNoSecret(err: unknown): void {
  const e = err as Error;
  const text = `${String(e)} ${JSON.stringify(e)} ${String(e.cause)} ${JSON.stringify(e.cause ?? null)}`;
  assert.ok(!text.includes(SECRET), `the password leaked into: ${text}`);
}

function code(err: unknown): string {
  return (err as { code: string }).code;
}

describe('EslClient.connect', () => {
  let peer: FakePeer | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
    assert.deepEqual(escaped.splice(0), []);
  });

  it('authenticates after auth/request and writes nothing before it', async () => {
    peer = await startFakePeer({ password: SECRET, greetDelayMs: 150 });
    const client = await EslClient.connect({ host: peer.host, port: peer.port, password: SECRET });
    const conn = await peer.nextConn();
    assert.equal(conn.receivedBeforeGreeting, '');
    assert.equal(conn.received, `auth ${SECRET}\n\n`);
    assert.equal(client.status, 'ready');
    assert.equal(client.closed, false);
    client.close();
    assert.equal(client.closed, true);
  });

  it('rejects a wrong password with EslAuthFailed, naming neither password', async () => {
    peer = await startFakePeer({ password: 'the-right-one' });
    const started = Date.now();
    await assert.rejects(EslClient.connect({ host: peer.host, port: peer.port, password: SECRET }), (err) => {
      assert.equal(code(err), 'MW_ERR_ESL_AUTH');
      assert.match((err as Error).message, /-ERR invalid/);
      assertNoSecret(err);
      assert.ok(!String(err).includes('the-right-one'));
      return true;
    });
    assert.ok(Date.now() - started < 1_000, 'refused at once, not at the deadline');
  });

  it('reports a refused port as EslUnreachable at once', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(EslClient.connect({ host: '127.0.0.1', port, password: SECRET }), (err) => {
      assert.equal(code(err), 'MW_ERR_ESL_UNREACHABLE');
      assert.match((err as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assertNoSecret(err);
      return true;
    });
    assert.ok(Date.now() - started < 1_000);
  });

  it('gives up on a peer that accepts TCP but never greets with EslTimeout (phase greeting)', async () => {
    peer = await startFakePeer({ greet: false });
    const started = Date.now();
    await assert.rejects(
      EslClient.connect({ host: peer.host, port: peer.port, password: SECRET, connectTimeoutMs: 300 }),
      (err) => {
        assert.equal(code(err), 'MW_ERR_ESL_TIMEOUT');
        const details = (err as { details: Record<string, unknown> }).details;
        assert.equal(details.command, 'connect');
        assert.equal(details.phase, 'greeting');
        assertNoSecret(err);
        return true;
      },
    );
    const took = Date.now() - started;
    assert.ok(took >= 280 && took < 1_500, `took ${took} ms`);
    const conn = await peer.nextConn();
    assert.equal(conn.received, '', 'nothing was sent to a peer that never asked for auth');
  });

  it('gives up on a peer that greets but never answers auth (phase authenticating)', async () => {
    peer = await startFakePeer({
      onAccept: (c) => {
        c.greet();
        c.authed = true; // swallow `auth` as an ordinary command: no reply
      },
    });
    await assert.rejects(
      EslClient.connect({ host: peer.host, port: peer.port, password: SECRET, connectTimeoutMs: 250 }),
      (err) => {
        assert.equal(code(err), 'MW_ERR_ESL_TIMEOUT');
        assert.equal((err as { details: Record<string, unknown> }).details.phase, 'authenticating');
        assertNoSecret(err);
        return true;
      },
    );
  });

  it('reports an ACL rude-rejection as EslAuthFailed with its text', async () => {
    peer = await startFakePeer({
      onAccept: (c) => {
        c.send(rudeRejection('Access Denied, go away.\n'));
        c.end();
      },
    });
    await assert.rejects(EslClient.connect({ host: peer.host, port: peer.port, password: SECRET }), (err) => {
      assert.equal(code(err), 'MW_ERR_ESL_AUTH');
      assert.equal((err as { details: Record<string, unknown> }).details.reason, 'rude-rejection');
      assert.match((err as Error).message, /Access Denied/);
      return true;
    });
  });

  it('reports a peer that closes before auth as EslConnectionLost', async () => {
    peer = await startFakePeer({ onAccept: (c) => c.destroy() });
    await assert.rejects(EslClient.connect({ host: peer.host, port: peer.port, password: SECRET }), (err) => {
      assert.equal(code(err), 'MW_ERR_ESL_CONNECTION_LOST');
      return true;
    });
  });

  it('calls a close listener registered after the close, once', async () => {
    peer = await startFakePeer();
    const client = await EslClient.connect({ host: peer.host, port: peer.port, password: 'ClueCon' });
    const before: EslCloseReason[] = [];
    client.onClose((r) => before.push(r));
    client.close();
    client.close();
    const after = await new Promise<EslCloseReason>((resolve) => client.onClose(resolve));
    assert.deepEqual(before, [{ kind: 'closed' }]);
    assert.deepEqual(after, { kind: 'closed' });
  });
});
