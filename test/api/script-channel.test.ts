import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MwareClient } from '../../src/client/client.ts';
import { ScriptChannelClient } from '../../src/client/channel.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';

/**
 * The script channel (03-interfaces.md): a persistent connection upgraded from the API port, the token checked
 * once, scopes per request, pipelined requests answered by id with the HTTP route's statuses and bodies.
 */

let n: ApiNode;
before(async () => {
  n = await startApiNode();
});
after(async () => {
  await n.stop();
});

interface Frame {
  id: number | null;
  status: number;
  body: { error?: { code: string; message: string }; [k: string]: unknown };
}

/** A raw channel: the upgrade exchange by hand, then frames. */
class Raw {
  readonly frames: Frame[] = [];
  head = '';
  closed = false;
  private buffered = '';
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      if (!this.head) {
        const end = this.buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.head = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end + 4);
        if (!this.head.startsWith('HTTP/1.1 101')) return this.wake();
      }
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        this.frames.push(JSON.parse(this.buffered.slice(0, nl)) as Frame);
        this.buffered = this.buffered.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** The refusal's body, when the upgrade was refused. */
  get refusal(): { status: number; body: Frame['body'] } {
    return { status: Number(this.head.split(' ')[1]), body: JSON.parse(this.buffered) as Frame['body'] };
  }

  static async open(token: string | null, o: { path?: string; protocol?: string } = {}): Promise<Raw> {
    const socket = connect(n.port, '127.0.0.1');
    const raw = new Raw(socket);
    socket.write(
      `GET ${o.path ?? '/api/v1/channel'} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n` +
        `Upgrade: ${o.protocol ?? 'mware-script/1'}\r\n` +
        (token ? `Authorization: Bearer ${token}\r\n` : '') +
        '\r\n',
    );
    await raw.until(() => raw.head !== '' && (raw.head.startsWith('HTTP/1.1 101') || raw.closed));
    return raw;
  }

  send(...frames: unknown[]): void {
    this.socket.write(frames.map((f) => (typeof f === 'string' ? f : JSON.stringify(f)) + '\n').join(''));
  }

  async until(fn: () => boolean, ms = 5_000): Promise<void> {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end)
        assert.fail(`not within ${ms} ms; frames: ${JSON.stringify(this.frames.slice(-3))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async answer(id: number): Promise<Frame> {
    await this.until(() => this.frames.some((f) => f.id === id));
    return this.frames.find((f) => f.id === id) as Frame;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

describe('the script channel', () => {
  it('opens only with a valid token, on its path and protocol, refusing in the API’s error shape', async () => {
    for (const [token, o, status, code] of [
      [null, {}, 401, 'MW_ERR_UNAUTHORIZED'],
      ['not-a-token-0123456789', {}, 401, 'MW_ERR_UNAUTHORIZED'],
      [TOKENS.scripts, { path: '/api/v1/elsewhere' }, 404, 'MW_ERR_NOT_FOUND'],
      [TOKENS.scripts, { protocol: 'websocket' }, 400, 'MW_ERR_BAD_REQUEST'],
    ] as const) {
      const raw = await Raw.open(token, o);
      await raw.until(() => raw.closed);
      assert.equal(raw.refusal.status, status, raw.head);
      assert.equal(raw.refusal.body.error?.code, code);
    }
  });

  it('answers pipelined requests by id, with the statuses and bodies of the HTTP routes', async () => {
    const raw = await Raw.open(TOKENS.scripts);
    const keys = Array.from({ length: 50 }, (_, i) => `pipe-${i}`);
    // Every request in one write, before any answer: they are all in flight at once.
    raw.send(...keys.map((key, i) => ({ id: i + 1, op: 'lock', key, body: { owner: 'p' } })));
    await raw.until(() => raw.frames.length === keys.length);
    assert.deepEqual(
      raw.frames.map((f) => f.id).sort((a, b) => (a ?? 0) - (b ?? 0)),
      keys.map((_, i) => i + 1),
    );
    assert.ok(raw.frames.every((f) => f.status === 200 && f.body.granted === true));
    // A second lock on a held key, not granted within its wait: 408 with the reason, as over HTTP.
    raw.send({ id: 100, op: 'lock', key: 'pipe-0', body: { owner: 'q', wait_ms: 10 } });
    const refused = await raw.answer(100);
    assert.equal(refused.status, 408);
    assert.equal(refused.body.granted, false);
    const token = raw.frames.find((f) => f.id === 1)?.body.token;
    raw.send(
      { id: 101, op: 'unlock', key: 'pipe-0', body: { owner: 'p', token } },
      { id: 102, op: 'unlock', key: 'pipe-1', body: { owner: 'p', token: 1 } },
      { id: 103, op: 'inspect', key: 'pipe-2' },
      { id: 104, op: 'ask', path: '/domains/test.rootdomain.ru', type: 'info' },
      { id: 105, op: 'send', path: '/domains/test.rootdomain.ru', type: 'ping' },
      { id: 106, op: 'release-owner', body: { owner: 'p' } },
    );
    assert.deepEqual((await raw.answer(101)).body, { released: true });
    assert.equal((await raw.answer(102)).body.error?.code, 'MW_ERR_MUTEX_STALE_TOKEN');
    assert.equal((await raw.answer(102)).status, 409);
    assert.deepEqual(
      ((await raw.answer(103)).body.holders as { owner: string }[]).map((h) => h.owner),
      ['p'],
    );
    assert.equal(((await raw.answer(104)).body.result as { domain: string }).domain, 'test.rootdomain.ru');
    assert.deepEqual(await raw.answer(105), { id: 105, status: 202, body: { accepted: true } });
    assert.equal((await raw.answer(106)).body.released, keys.length - 1);
    raw.close();
  });

  it('applies the token’s scopes to each request', async () => {
    const raw = await Raw.open(TOKENS.sendOnly);
    raw.send(
      { id: 1, op: 'lock', key: 'scoped', body: { owner: 'x' } },
      { id: 2, op: 'release-owner', body: { owner: 'x' } },
      { id: 3, op: 'ask', path: '/domains/test.rootdomain.ru', type: 'info' },
    );
    assert.equal((await raw.answer(1)).status, 403);
    assert.equal((await raw.answer(1)).body.error?.code, 'MW_ERR_FORBIDDEN');
    assert.equal((await raw.answer(2)).status, 403);
    assert.equal((await raw.answer(3)).status, 200);
    const reader = await Raw.open(TOKENS.reader);
    reader.send({ id: 1, op: 'send', path: '/domains/test.rootdomain.ru', type: 'ping' });
    assert.equal((await reader.answer(1)).status, 403, 'a message needs its own scope');
    raw.close();
    reader.close();
  });

  it('answers bad frames with 400 naming the field and keeps the connection; hangs up on what is not a frame', async () => {
    const raw = await Raw.open(TOKENS.scripts);
    raw.send(
      { op: 'inspect', key: 'k' },
      { id: 1, op: 'teleport' },
      { id: 2, op: 'lock', key: 'k', body: { mode: 'write' } },
      { id: 3, op: 'ask', path: 'domains/x', type: 'info' },
      { id: 4, op: 'ask', path: '/domains/test.rootdomain.ru', type: 'hasOwnProperty' },
      { id: 5, op: 'lock', key: '', body: { owner: 'x' } },
    );
    await raw.until(() => raw.frames.length === 6);
    assert.equal(raw.frames.find((f) => f.id === null)?.status, 400, 'a frame without an id');
    assert.match((await raw.answer(1)).body.error?.message ?? '', /unknown operation "teleport"/);
    assert.match((await raw.answer(2)).body.error?.message ?? '', /frame\.body\.owner/);
    assert.equal((await raw.answer(3)).status, 400);
    assert.equal((await raw.answer(4)).body.error?.code, 'MW_ERR_UNKNOWN_MESSAGE');
    assert.match((await raw.answer(5)).body.error?.message ?? '', /frame\.key/);
    assert.equal(raw.closed, false, 'still open');
    raw.send({ id: 6, op: 'inspect', key: 'k' });
    assert.equal((await raw.answer(6)).status, 200);
    raw.send('this is not json');
    await raw.until(() => raw.closed);
    assert.equal(raw.frames.at(-1)?.body.error?.code, 'MW_ERR_BAD_REQUEST');
  });

  it('closes a connection whose frame outgrows the limit, with 413', async () => {
    const raw = await Raw.open(TOKENS.scripts);
    raw.socket.write('{"id":1,"op":"inspect","key":"' + 'x'.repeat(300 * 1024));
    await raw.until(() => raw.closed);
    assert.equal(raw.frames.at(-1)?.status, 413);
    assert.equal(raw.frames.at(-1)?.body.error?.code, 'MW_ERR_PAYLOAD_TOO_LARGE');
  });

  it('caps the channels a token may hold open', async () => {
    const open: Raw[] = [];
    for (let i = 0; i < 64; i++) open.push(await Raw.open(TOKENS.mutexOnly));
    assert.ok(open.every((r) => r.head.startsWith('HTTP/1.1 101')));
    const refused = await Raw.open(TOKENS.mutexOnly);
    await refused.until(() => refused.closed);
    assert.equal(refused.refusal.status, 503);
    assert.equal(refused.refusal.body.error?.code, 'MW_ERR_TOO_MANY_STREAMS');
    for (const r of open) r.close();
    // Slots come back when channels close.
    await new Promise((r) => setTimeout(r, 100));
    const again = await Raw.open(TOKENS.mutexOnly);
    assert.ok(again.head.startsWith('HTTP/1.1 101'), again.head);
    again.close();
  });

  it('carries the SDK’s mutex calls and messages by default', async () => {
    const mw = new MwareClient({ url: n.url, token: TOKENS.scripts, timeoutMs: 5_000 });
    const channelLocks = async () => {
      const text = await (await n.call('/metrics', { token: TOKENS.admin })).text();
      const m = /^mware_api_requests_total\{[^}]*route="channel lock"[^}]*status="200"[^}]*\} (\d+)/m.exec(
        text,
      );
      return Number(m?.[1] ?? 0);
    };
    const before = await channelLocks();
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const r = await mw.mutex.lock(`sdk-${i % 20}`, { owner: `o${i}`, wait_ms: 5_000 });
        assert.ok(r.granted);
        await mw.mutex.unlock(`sdk-${i % 20}`, { owner: `o${i}`, token: r.token });
        return `${i % 20}:${r.token}`;
      }),
    );
    assert.equal(new Set(results).size, 200, 'every grant of a key its own token');
    assert.equal((await channelLocks()) - before, 200, 'every lock went over the channel');
    assert.equal(await mw.ask('/domains/test.rootdomain.ru', 'ping'), 'pong');
    mw.close();
  });
});

describe('the SDK without a script channel', () => {
  it('falls back to HTTP when the node answers the upgrade 404 (an older node)', async () => {
    const calls: string[] = [];
    const old = createServer((req, res) => {
      calls.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.upgrade ?? ''}`);
      if (req.headers.upgrade) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"error":{"code":"MW_ERR_NOT_FOUND"}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"pong"}');
    });
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
    try {
      const mw = new MwareClient({ url, token: TOKENS.scripts, timeoutMs: 2_000 });
      assert.equal(await mw.ask('/domains/x', 'ping'), 'pong');
      assert.equal(await mw.ask('/domains/x', 'ping'), 'pong');
      assert.deepEqual(calls, [
        'GET /api/v1/channel mware-script/1',
        'POST /api/v1/actors/domains/x/messages?reply=true ',
        'POST /api/v1/actors/domains/x/messages?reply=true ',
      ]);
      const out = await new ScriptChannelClient(url, 'x').call({ op: 'inspect', key: 'k' }, 1_000);
      assert.equal(out.kind, 'fallback');
    } finally {
      old.close();
    }
  });
});
