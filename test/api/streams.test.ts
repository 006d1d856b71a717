import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, startTestActor, TOKENS } from '../support/api-node.ts';

/**
 * What a node owes its event-stream clients and what it must not let them cost it (03-interfaces.md): a slow
 * reader is dropped once far behind, streams are capped, and failures are shown in full to admins only.
 */

let n: ApiNode;
before(async () => {
  n = await startApiNode();
});
after(async () => {
  await n.stop();
});

/**
 * Opens /api/v1/events on a raw socket that reads nothing until `drain` is called; `drain` then reads to the end
 * and resolves with the bytes received.
 */
async function stalledReader(token: string): Promise<{ drain(): Promise<number>; destroy(): void }> {
  const socket = connect({ host: '127.0.0.1', port: n.port });
  socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  let bytes = 0;
  const ended = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => (bytes += d.length));
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  // The stream is open once its first bytes arrive; from then on nothing is read.
  await new Promise((r) => socket.once('data', r));
  socket.pause();
  return {
    drain: async () => {
      socket.resume();
      await ended;
      return bytes;
    },
    destroy: () => socket.destroy(),
  };
}

async function openStreams(count: number, token: string): Promise<{ statuses: number[]; close(): void }> {
  const aborts: AbortController[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const ac = new AbortController();
    aborts.push(ac);
    const res = await n.call('/api/v1/events', { token, signal: ac.signal });
    statuses.push(res.status);
    if (res.status !== 200) await res.text();
  }
  return { statuses, close: () => aborts.forEach((a) => a.abort()) };
}

describe('event streams under load', () => {
  it(
    'drops a client that stops reading once it is far behind, instead of buffering for it',
    { timeout: 60_000 },
    async () => {
      const slow = await stalledReader(TOKENS.admin);
      assert.equal(n.node.api.limiter.open, 1);
      // 2,000 events of 16 KiB: 32 MiB the client does not read.
      const padding = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 2_000; i++) {
        n.node.events.emit({ type: 'stopped', path: `/pad/${padding}`, reason: 'normal', at: Date.now() });
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      try {
        assert.equal(n.node.api.limiter.open, 0, 'the node dropped the stream and gave its slot back');
        // What the client can still read is what the buffers held when it was dropped: nowhere near 32 MiB.
        const received = await slow.drain();
        assert.ok(received < 16 * 1024 * 1024, `${received} bytes reached the client`);
      } finally {
        slow.destroy();
      }
    },
  );

  it('caps the streams one token may hold open, answering the next one 503 with a stable code', async () => {
    const held = await openStreams(17, TOKENS.reader);
    try {
      assert.deepEqual(held.statuses.slice(0, 16), Array(16).fill(200));
      assert.equal(held.statuses[16], 503);
      const res = await n.call('/api/v1/events', { token: TOKENS.reader });
      const body = (await res.json()) as { error: { code: string } };
      assert.deepEqual([res.status, body.error.code], [503, 'MW_ERR_TOO_MANY_STREAMS']);
      assert.equal(res.headers.get('retry-after'), '1');
      const other = await openStreams(1, TOKENS.sendOnly);
      assert.deepEqual(other.statuses, [200], 'another token still gets one');
      other.close();
    } finally {
      held.close();
    }
  });
});

describe('what a failure tells whom', () => {
  const SECRET_WORDS = 'connect failed: postgres://app@10.0.0.7/billing';

  it('answers a crash with its code and a plain sentence; the failure’s own words stay in the log', async () => {
    const path = await startTestActor(n, 'disclosure-crash');
    const res = await n.call(`/api/v1/actors${path}/messages?reply=true`, {
      method: 'POST',
      body: JSON.stringify({ type: 'throw', payload: SECRET_WORDS }),
      token: TOKENS.admin,
    });
    const text = await res.text();
    assert.equal(res.status, 500, text);
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'MW_ERR_ACTOR_CRASHED');
    assert.ok(!text.includes('10.0.0.7'), text);
    assert.ok(
      n.logLines.some((l) => l.includes('10.0.0.7')),
      'the log has the details',
    );
  });

  it('shows the last error in full to an admin, and only its code to other tokens, in the tree and the details', async () => {
    const path = await startTestActor(n, 'disclosure-tree');
    await n.call(`/api/v1/actors${path}/messages?reply=true`, {
      method: 'POST',
      body: JSON.stringify({ type: 'throw', payload: SECRET_WORDS }),
      token: TOKENS.admin,
    });
    const lastError = async (token: string) => {
      const details = (await (await n.call(`/api/v1/actors${path}`, { token })).json()) as {
        node: { lastError?: { code: string; message: string } };
      };
      const tree = (await (await n.call('/api/v1/tree?path=/domains', { token })).json()) as {
        children: { path: string; lastError?: { code: string; message: string } }[];
      };
      return [details.node.lastError, tree.children.find((c) => c.path === path)?.lastError];
    };
    for (const e of await lastError(TOKENS.admin)) assert.match(e?.message ?? '', /10\.0\.0\.7/);
    for (const token of [TOKENS.reader, TOKENS.scripts]) {
      for (const e of await lastError(token)) {
        assert.equal(e?.code, 'MW_ERR_INTERNAL');
        assert.doesNotMatch(e?.message ?? '', /10\.0\.0\.7/);
      }
    }
  });

  it('streams failure events in full to an admin and as a code to others', { timeout: 20_000 }, async () => {
    const path = await startTestActor(n, 'disclosure-events');
    const follow = async (token: string, ac: AbortController) => {
      const res = await n.call('/api/v1/events', { token, signal: ac.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      return async () => {
        while (!/event: failed\ndata: [^\n]*disclosure-events/.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        return /event: failed\ndata: ([^\n]*disclosure-events[^\n]*)/.exec(text)?.[1] ?? '';
      };
    };
    const acs = [new AbortController(), new AbortController()];
    try {
      const admin = await follow(TOKENS.admin, acs[0]!);
      const reader = await follow(TOKENS.reader, acs[1]!);
      await n.call(`/api/v1/actors${path}/messages?reply=true`, {
        method: 'POST',
        body: JSON.stringify({ type: 'throw', payload: SECRET_WORDS }),
        token: TOKENS.admin,
      });
      assert.match(await admin(), /10\.0\.0\.7/);
      const plain = await reader();
      assert.match(plain, /"code":"MW_ERR_INTERNAL"/);
      assert.doesNotMatch(plain, /10\.0\.0\.7/);
    } finally {
      for (const ac of acs) ac.abort();
    }
  });
});
