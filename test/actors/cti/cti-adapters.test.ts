import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { CtiAdapterKey } from '../../../actors/cti/adapters.ts';
import { CTI_ADAPTERS } from '../../../actors/cti/adapters.ts';
import { ctiAdapterActor } from '../../../actors/cti/cti-adapter-actor.ts';
import { CtiFeed, follow } from '../../../actors/cti/feed.ts';
import type { CtiAdapterProtocol, CtiAdapterStatus, CtiClientInfo } from '../../../actors/cti/protocol.ts';
import { WS_CLOSE } from '../../../actors/cti/websocket-server.ts';
import { FsFarm } from '../../../actors/freeswitch/farm.ts';
import type { Behavior } from '../../../src/actor-system/kind.ts';
import type { CallEvent } from '../../../src/freeswitch/call-events.ts';
import { silentLogger } from '../../../src/log/log.ts';
import { systemClock } from '../../../src/supervision/clock.ts';
import { CtiAdapter } from '../../../topology/schema.ts';
import { until } from '../../harness/poll.ts';
import { freePort } from '../../harness/ports.ts';
import type { CtiClient, CtiSubscribe } from '../../support/cti-clients.ts';
import { GrpcCtiClient, WsCtiClient } from '../../support/cti-clients.ts';
import { testActorContext } from '../../support/actor-context.ts';
import { callEvent } from '../../support/call-events.ts';

/**
 * The CTI adapter servers on the farm's real board (FsFarm, fed here as the host actors feed it), with real
 * WebSocket and gRPC clients on loopback. The node test (cti-node.test.ts) runs them from a topology against
 * simulated FreeSWITCH hosts.
 */

const TOKEN = 'cti-token-0123456789';

interface Adapter {
  actor: Behavior<CtiAdapterProtocol>;
  farm: FsFarm;
  feed: CtiFeed;
  port: number;
  failures: unknown[];
  connect(sub: CtiSubscribe): Promise<CtiClient>;
  status(): CtiAdapterStatus;
  clients(): CtiClientInfo[];
}

const running: { stop(): unknown }[] = [];
after(async () => {
  for (const r of running.reverse()) await r.stop();
});

async function startAdapter(
  key: CtiAdapterKey,
  o: { buffer?: number; token?: string | null; maxClients?: number } = {},
): Promise<Adapter> {
  const port = await freePort();
  const config = CtiAdapter.parse({
    key,
    port,
    ...(o.token !== null && { token: o.token ?? TOKEN }),
    ...(o.buffer !== undefined && { buffer: o.buffer }),
  });
  const farm = new FsFarm(['fs01', 'fs02']);
  const feed = new CtiFeed(config.buffer);
  follow(feed, farm);
  const failures: unknown[] = [];
  const actor = await ctiAdapterActor.create(
    {
      key,
      adapter: CTI_ADAPTERS[key],
      address: '127.0.0.1',
      port,
      token: config.token,
      feed,
      ...(o.maxClients !== undefined && { maxClients: o.maxClients }),
    },
    testActorContext(`/services/cti/${key}`, { onFail: (e) => failures.push(e) }).context,
  );
  running.push({ stop: () => actor.stop?.() });
  const connect = async (sub: CtiSubscribe): Promise<CtiClient> => {
    const c =
      key === 'generic.grpc'
        ? new GrpcCtiClient(`127.0.0.1:${port}`, sub)
        : await WsCtiClient.connect(`ws://127.0.0.1:${port}`, sub);
    running.push({ stop: () => c.close() });
    return c;
  };
  return {
    actor,
    farm,
    feed,
    port,
    failures,
    connect,
    status: () => actor.handlers.status.call(actor, null) as CtiAdapterStatus,
    clients: () => actor.handlers.clients.call(actor, null) as CtiClientInfo[],
  };
}

let n = 0;
/** A call event as a host actor publishes it. */
function event(domain: string | null, kind: CallEvent['kind'] = 'created', host = 'fs01'): CallEvent {
  n++;
  return callEvent({
    kind,
    host,
    domain,
    uuid: `uuid-${n}`,
    callId: `call-${n}@test`,
    at: 1_700_000_000_000 + n,
  });
}

const hasHello = (c: CtiClient): boolean => c.messages.some((m) => m.type === 'hello');
const seqs = (c: CtiClient): number[] => c.events().map((e) => e.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const key of ['generic.json.websocket', 'generic.grpc'] as const) {
  describe(`CTI adapter ${key} (real clients on loopback)`, () => {
    it('streams call events with domain, numbers and uuids, live after the hello, in sequence order', async () => {
      const a = await startAdapter(key);
      a.farm.publish(event('before.test'));
      const c = await a.connect({ token: TOKEN });
      await c.until('hello', hasHello);
      const hello = c.messages[0]!;
      assert.equal(hello.type, 'hello');
      assert.deepEqual(hello.type === 'hello' && [hello.stream, hello.first, hello.last, hello.resumed], [
        a.feed.stream,
        1,
        1,
        false,
      ]);
      const sent = [event('a.test'), event('b.test', 'answered'), event('a.test', 'ended')];
      for (const e of sent) a.farm.publish(e);
      await c.until('three events', (x) => x.events().length === 3);
      // Live only: the event before the subscription is not replayed.
      assert.deepEqual(seqs(c), [2, 3, 4]);
      assert.deepEqual(
        c.events().map(({ seq: _seq, ...e }) => e),
        sent,
      );
      assert.equal(a.status().sent, 3);
      assert.deepEqual(
        a.clients().map((x) => [x.cursor, x.sent]),
        [[4, 3]],
      );
    });

    it('refuses a client without the token or with a wrong one, and counts the refusals', async () => {
      const a = await startAdapter(key);
      const expected = key === 'generic.grpc' ? GrpcStatus.UNAUTHENTICATED : WS_CLOSE.unauthorized;
      for (const token of [undefined, 'wrong-token-0123456789', `${TOKEN}x`]) {
        const c = await a.connect(token === undefined ? {} : { token });
        await c.until('refused', (x) => x.ended !== undefined).catch(() => undefined);
        assert.equal(c.ended?.code, expected, `token ${String(token)}: ${JSON.stringify(c.ended)}`);
        assert.match(c.ended?.reason ?? '', /MW_ERR_CTI_UNAUTHORIZED/);
        assert.ok(!c.ended?.reason.includes(TOKEN), 'the token is never echoed');
        assert.equal(c.messages.length, 0);
      }
      assert.equal(a.status().refused, 3);
      assert.equal(a.status().clients, 0);
    });

    it('filters by domain: the domain and its subdomains, never another domain or an event without one', async () => {
      const a = await startAdapter(key);
      const c = await a.connect({ token: TOKEN, domains: ['Tenant.test'] });
      const all = await a.connect({ token: TOKEN });
      await c.until('hello', hasHello);
      await all.until('hello', hasHello);
      for (const d of ['tenant.test', 'other.test', 'sub.tenant.test', null, 'nottenant.test', 'TENANT.TEST'])
        a.farm.publish(event(d));
      await all.until('six events', (x) => x.events().length === 6);
      await c.until('three events', (x) => x.events().length === 3);
      assert.deepEqual(
        c.events().map((e) => e.domain),
        ['tenant.test', 'sub.tenant.test', 'TENANT.TEST'],
      );
      // Filtered-out events still move the client's cursor: a resume does not replay them.
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(a.clients().find((x) => x.domains.length === 1)?.cursor, 6);
    });

    it('resumes after a disconnect from the last sequence number: the events published meanwhile, none lost, none twice', async () => {
      const a = await startAdapter(key);
      const first = await a.connect({ token: TOKEN });
      await first.until('hello', hasHello);
      for (let i = 0; i < 5; i++) a.farm.publish(event('a.test'));
      await first.until('five events', (x) => x.events().length === 5);
      const [last, stream] = [first.lastSeq(), first.stream()];
      await first.close();
      for (let i = 0; i < 300; i++) a.farm.publish(event('a.test'));
      const again = await a.connect({ token: TOKEN, after: last, ...(stream && { stream }) });
      await again.until('the 300 missed', (x) => x.events().length === 300);
      a.farm.publish(event('a.test'));
      await again.until('and the live one', (x) => x.events().length === 301);
      assert.deepEqual([...seqs(first), ...seqs(again)], range(1, 306));
      const hello = again.messages[0];
      assert.equal(hello?.type === 'hello' && hello.resumed, true);
      assert.ok(!again.messages.some((m) => m.type === 'gap'));
    });

    it('tells a client that fell further behind than the buffer how many events it missed, then goes on', async () => {
      const a = await startAdapter(key, { buffer: 100 });
      for (let i = 0; i < 10; i++) a.farm.publish(event('a.test'));
      for (let i = 0; i < 150; i++) a.farm.publish(event('a.test'));
      const c = await a.connect({ token: TOKEN, after: 10, stream: a.feed.stream });
      await c.until('the 100 held', (x) => x.events().length === 100);
      const gap = c.messages.find((m) => m.type === 'gap');
      assert.deepEqual(gap, { type: 'gap', after: 10, missed: 50 });
      assert.deepEqual(seqs(c), range(61, 160));
      assert.equal(a.status().gaps, 1);
      assert.deepEqual(a.status().buffer, { capacity: 100, held: 100, first: 61, last: 160 });
    });

    // gRPC only: its flow control backs up within kilobytes, where a WebSocket's loopback TCP buffers take tens of
    // megabytes (tcp_rmem) before the server notices; the session logic behind both is the same.
    if (key === 'generic.grpc')
      it('a client that stops reading is not queued for without bound: it catches up from the buffer, told what it missed', async () => {
        const a = await startAdapter(key, { buffer: 500 });
        const c = await a.connect({ token: TOKEN });
        await c.until('hello', hasHello);
        c.pause();
        // Publish until the transport is congested: the server stops writing to it, its cursor stays behind what
        // was published (how much fits in the socket and HTTP/2 windows varies, so not a fixed count).
        const serverCursor = () => a.clients()[0]!.cursor;
        const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
        let total = 0;
        let congested = false;
        for (let round = 0; round < 40 && !congested; round++) {
          for (let i = 0; i < 2_500; i++, total++) a.farm.publish(event('a.test'));
          await pause(100);
          const seen = serverCursor();
          await pause(200);
          congested = seen < total && serverCursor() === seen;
        }
        assert.ok(congested, `cursor ${serverCursor()} of ${total}: the transport never filled up`);
        c.resume();
        await c.until('caught up', (x) => x.lastSeq() === total, 20_000);
        // Every number is accounted for, in order: delivered, or inside a gap notice.
        let cursor = 0;
        for (const m of c.messages) {
          if (m.type === 'event') assert.equal(m.event.seq, ++cursor);
          if (m.type === 'gap') {
            assert.equal(m.after, cursor);
            cursor += m.missed;
          }
        }
        assert.equal(cursor, total);
        assert.ok(
          c.messages.some((m) => m.type === 'gap'),
          'it fell behind the buffer',
        );
      });

    it('fails to start, without crashing the node, when its port is taken', async () => {
      const a = await startAdapter(key);
      const config = { key, adapter: CTI_ADAPTERS[key], address: '127.0.0.1', port: a.port, token: TOKEN };
      await assert.rejects(
        Promise.resolve(
          ctiAdapterActor.create(
            { ...config, feed: a.feed },
            {
              path: `/services/cti/${key}`,
              clock: systemClock,
              log: silentLogger(),
              state: { restored: undefined, durable: false, save: async () => {}, clear: async () => {} },
              fail: () => {},
              stop: () => {},
            },
          ),
        ),
        /EADDRINUSE|address already in use|No address added/i,
      );
      await new Promise((r) => setTimeout(r, 50));
      const c = await a.connect({ token: TOKEN });
      await c.until('the first server still serves', hasHello);
    });

    it('refuses a client over its limit, and takes one again when another leaves', async () => {
      const a = await startAdapter(key, { maxClients: 2 });
      const [c1, c2] = [await a.connect({ token: TOKEN }), await a.connect({ token: TOKEN })];
      await c1.until('hello', hasHello);
      await c2.until('hello', hasHello);
      const c3 = await a.connect({ token: TOKEN });
      await c3.until('refused', (x) => x.ended !== undefined).catch(() => undefined);
      assert.equal(c3.ended?.code, key === 'generic.grpc' ? GrpcStatus.RESOURCE_EXHAUSTED : WS_CLOSE.full);
      await c1.close();
      await until('the first one gone', async () => a.status().clients === 1);
      const c4 = await a.connect({ token: TOKEN });
      await c4.until('hello', hasHello);
    });

    it('replays everything held to a client whose number is from another stream (the farm began again)', async () => {
      const a = await startAdapter(key);
      for (let i = 0; i < 3; i++) a.farm.publish(event('a.test'));
      const c = await a.connect({ token: TOKEN, after: 2, stream: 'a-stream-that-ended' });
      await c.until('all three', (x) => x.events().length === 3);
      const hello = c.messages[0];
      assert.equal(hello?.type === 'hello' && hello.resumed, false);
      assert.deepEqual(seqs(c), [1, 2, 3]);
    });
  });
}

describe('CTI adapter generic.json.websocket: bad subscriptions', () => {
  it('closes with 4400 and MW_ERR_CTI_BAD_SUBSCRIPTION on garbage, and keeps serving the others', async () => {
    const a = await startAdapter('generic.json.websocket');
    const good = await a.connect({ token: TOKEN });
    const url = `ws://127.0.0.1:${a.port}`;
    for (const raw of [
      'not json',
      '{"type":"hello"}',
      JSON.stringify({ type: 'subscribe', token: TOKEN, after: -1 }),
      JSON.stringify({ type: 'subscribe', token: TOKEN, domains: 'a.test' }),
    ]) {
      const c = await WsCtiClient.connect(url, {}, { raw });
      await c.until('closed', (x) => x.ended !== undefined).catch(() => undefined);
      assert.equal(c.ended?.code, WS_CLOSE.badSubscription, raw);
      assert.match(c.ended?.reason ?? '', /^MW_ERR_CTI_BAD_SUBSCRIPTION: /);
    }
    a.farm.publish(event('a.test'));
    await good.until('the event', (x) => x.events().length === 1);
    assert.deepEqual(a.failures, []);
  });

  it('takes the token from an Authorization: Bearer header of the upgrade', async () => {
    const a = await startAdapter('generic.json.websocket');
    const c = await WsCtiClient.connect(
      `ws://127.0.0.1:${a.port}`,
      {},
      { headers: { authorization: `Bearer ${TOKEN}` } },
    );
    await c.until('hello', hasHello);
  });

  it('asks no token when the topology gives none', async () => {
    const a = await startAdapter('generic.json.websocket', { token: null });
    const c = await a.connect({});
    await c.until('hello', hasHello);
  });
});
