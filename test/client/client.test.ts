import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorNotFound, MutexLockTimeout, MutexStaleToken, MwareClient, Unauthorized } from 'mware/client';
import type { DomainMessages, MutexMessages } from 'mware/client';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';

/** The client SDK scripting components use, imported as they import it (`mware/client`), against a real node. */

let n: ApiNode;
let mw: MwareClient;
before(async () => {
  n = await startApiNode();
  mw = new MwareClient({ url: n.url, token: TOKENS.scripts, timeoutMs: 5_000 });
});
after(async () => {
  await n.stop();
});

describe('the client SDK', () => {
  it('asks and tells actors by path', async () => {
    const info = await mw.ask<{ domain: string }>('/domains/test.rootdomain.ru', 'info');
    assert.equal(info.domain, 'test.rootdomain.ru');
    await mw.send('/domains/test.rootdomain.ru', 'ping');
  });

  it('types a call by the public messages of the actor’s kind', async () => {
    const domain = mw.to<DomainMessages>('/domains/test.rootdomain.ru');
    const info = await domain.ask('info');
    assert.deepEqual([info.domain, info.parent], ['test.rootdomain.ru', 'rootdomain.ru']);
    assert.equal(await domain.ask('ping', null), 'pong');
    const mutex = mw.to<MutexMessages>('/mutexes/typed');
    // @ts-expect-error lock is not a public message of a mutex actor (the mutex facade takes locks)
    const refused = mutex.ask('lock', { owner: 'x' });
    await assert.rejects(refused, (e: Error & { code?: string }) => e.code === 'MW_ERR_ACTOR_NOT_FOUND');
    // @ts-expect-error info takes no payload
    void domain.ask.bind(domain, 'info', { x: 1 });
  });

  it('reads the tree, an actor and the cluster', async () => {
    const admin = new MwareClient({ url: n.url, token: TOKENS.admin });
    assert.deepEqual(
      (await admin.tree('/domains')).children?.map((c) => c.id),
      ['rootdomain.ru', 'test.rootdomain.ru', 'sales.test.rootdomain.ru'],
    );
    assert.equal((await admin.actor('/domains/rootdomain.ru')).node.kind, 'domain');
    assert.equal((await admin.cluster()).active, 'mware1');
    assert.equal((await admin.restart('/domains/rootdomain.ru')).state, 'running');
  });

  it('throws the error class of the answer’s code, with the HTTP status', async () => {
    await assert.rejects(
      mw.ask('/domains/nope.ru', 'ping'),
      (e) => e instanceof ActorNotFound && e.details?.status === 404,
    );
    await assert.rejects(
      new MwareClient({ url: n.url, token: 'wrong-token-0123456789' }).tree(),
      (e) => e instanceof Unauthorized,
    );
    const r = await mw.mutex.lock('sdk-stale', { owner: 'a' });
    assert.ok(r.granted);
    await mw.mutex.unlock('sdk-stale', { owner: 'a', token: r.token });
    await assert.rejects(
      mw.mutex.unlock('sdk-stale', { owner: 'a', token: r.token }),
      (e) => e instanceof MutexStaleToken,
    );
  });

  it('runs a function under a lock and releases it however the function ends', async () => {
    const seen: number[] = [];
    await mw.mutex.withLock('sdk-with', { owner: 'w1', hold_ms: 10_000 }, async (token) => {
      seen.push(token);
      const other = await mw.mutex.lock('sdk-with', { owner: 'w2' });
      assert.equal(other.granted, false, 'held while the function runs');
    });
    await assert.rejects(
      mw.mutex.withLock('sdk-with', { owner: 'w3' }, async () => {
        throw new Error('the script failed');
      }),
      /the script failed/,
    );
    const again = await mw.mutex.lock('sdk-with', { owner: 'w4' });
    assert.ok(again.granted, 'released after the failure too');
    await assert.rejects(
      mw.mutex.withLock('sdk-with', { owner: 'w5', wait_ms: 50 }, async () => 1),
      (e) => e instanceof MutexLockTimeout,
    );
  });

  it('follows the event stream', async () => {
    const admin = new MwareClient({ url: n.url, token: TOKENS.admin });
    const ac = new AbortController();
    const types: string[] = [];
    const following = (async () => {
      for await (const e of admin.events(ac.signal)) {
        types.push(e.type);
        if (e.type === 'restarted') ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await admin.restart('/domains/test.rootdomain.ru');
    await following;
    assert.equal(types[0], 'hello');
    assert.ok(types.includes('restarted'));
  });
});

describe('the client SDK during a takeover', () => {
  const answer = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('retries a 503 until the node answers', async () => {
    let calls = 0;
    const fake: typeof fetch = async () =>
      ++calls < 3
        ? answer(503, { error: { code: 'MW_ERR_DRAINING', message: 'stopping' } })
        : answer(200, { result: 'pong' });
    const c = new MwareClient({
      url: 'http://127.0.0.1:1',
      token: 't',
      fetch: fake,
      retry: { minDelayMs: 5 },
    });
    assert.equal(await c.ask('/x', 'ping'), 'pong');
    assert.equal(calls, 3);
  });

  it('gives up at its deadline, with the last error', async () => {
    let calls = 0;
    const fake: typeof fetch = async () => (
      calls++,
      answer(503, { error: { code: 'MW_ERR_MUTEX_UNAVAILABLE', message: 'passive' } })
    );
    const c = new MwareClient({
      url: 'http://127.0.0.1:1',
      token: 't',
      fetch: fake,
      timeoutMs: 300,
      retry: { minDelayMs: 20, maxDelayMs: 40 },
    });
    const t0 = performance.now();
    await assert.rejects(
      c.mutex.lock('k', { owner: 'o' }, { timeoutMs: 300 }),
      (e: Error & { code?: string }) => e.code === 'MW_ERR_MUTEX_UNAVAILABLE',
    );
    assert.ok(performance.now() - t0 < 1_000);
    assert.ok(calls >= 3);
  });

  it('never sends twice a request an actor may have handled (503 ACTOR_UNAVAILABLE)', async () => {
    let calls = 0;
    const fake: typeof fetch = async () => (
      calls++,
      answer(503, { error: { code: 'MW_ERR_ACTOR_UNAVAILABLE', message: 'stopped before answering' } })
    );
    const c = new MwareClient({
      url: 'http://127.0.0.1:1',
      token: 't',
      fetch: fake,
      retry: { minDelayMs: 5 },
    });
    await assert.rejects(
      c.ask('/x', 'y'),
      (e: Error & { code?: string }) => e.code === 'MW_ERR_ACTOR_UNAVAILABLE',
    );
    assert.equal(calls, 1);
  });

  it('gives the node, at each attempt, only the time the call has left', async () => {
    const deadlines: number[] = [];
    const fake: typeof fetch = async (_url, init) => {
      deadlines.push((JSON.parse(init?.body as string) as { timeout_ms: number }).timeout_ms);
      return deadlines.length < 3
        ? answer(503, { error: { code: 'MW_ERR_NOT_READY', message: 'joining' } })
        : answer(200, { result: 'pong' });
    };
    const c = new MwareClient({
      url: 'http://127.0.0.1:1',
      token: 't',
      fetch: fake,
      timeoutMs: 2_000,
      retry: { minDelayMs: 200 },
    });
    assert.equal(await c.ask('/x', 'ping'), 'pong');
    assert.ok(deadlines[0]! <= 1_900 && deadlines[2]! <= deadlines[0]! - 500, JSON.stringify(deadlines));
  });

  it('moves on to the next instance of the group when one refuses or is not active', async () => {
    const seen: string[] = [];
    const fake: typeof fetch = async (url) => {
      const host = new URL(url instanceof Request ? url.url : url).host;
      seen.push(host);
      if (host === '127.0.0.1:1')
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
        });
      if (host === '127.0.0.2:2')
        return answer(503, { error: { code: 'MW_ERR_NOT_READY', message: 'passive' } });
      return answer(200, { result: 'pong' });
    };
    const c = new MwareClient({
      url: ['http://127.0.0.1:1', 'http://127.0.0.2:2', 'http://127.0.0.3:3'],
      token: 't',
      fetch: fake,
    });
    assert.equal(await c.ask('/x', 'ping'), 'pong');
    assert.deepEqual(seen, ['127.0.0.1:1', '127.0.0.2:2', '127.0.0.3:3']);
    assert.equal(c.url, 'http://127.0.0.3:3', 'and stays with the one that answered');
  });

  it('reads Retry-After as seconds or as an HTTP date', async () => {
    const times: number[] = [];
    const fake: typeof fetch = async () => {
      times.push(performance.now());
      if (times.length === 1)
        return new Response('{"error":{"code":"MW_ERR_DRAINING","message":"x"}}', {
          status: 503,
          headers: { 'retry-after': new Date(Date.now() + 1_500).toUTCString() },
        });
      return answer(200, { result: 'pong' });
    };
    const c = new MwareClient({
      url: 'http://127.0.0.1:1',
      token: 't',
      fetch: fake,
      retry: { minDelayMs: 1 },
    });
    assert.equal(await c.ask('/x', 'ping'), 'pong');
    // An HTTP date has whole seconds: the wait is between 0.5 and 1.5 s, never the 1 ms backoff.
    assert.ok(times[1]! - times[0]! >= 400, `waited ${Math.round(times[1]! - times[0]!)} ms`);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const fake: typeof fetch = async () => (
      calls++,
      answer(404, { error: { code: 'MW_ERR_ACTOR_NOT_FOUND', message: 'no actor' } })
    );
    await assert.rejects(
      new MwareClient({ url: 'http://127.0.0.1:1', token: 't', fetch: fake }).ask('/x', 'y'),
      ActorNotFound,
    );
    assert.equal(calls, 1);
  });
});
