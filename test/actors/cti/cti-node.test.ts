import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CtiAdapterStatus, CtiClientInfo, CtiHello } from '../../../actors/cti/protocol.ts';
import type { CallEventsReply } from '../../../actors/freeswitch/protocol.ts';
import type { InspectionEvent } from '../../../src/supervision/events.ts';
import { freePort } from '../../harness/ports.ts';
import { until } from '../../harness/poll.ts';
import type { CtiClient } from '../../support/cti-clients.ts';
import { GrpcCtiClient, WsCtiClient } from '../../support/cti-clients.ts';
import type { FsNode, SimFarm } from '../../support/fs-node.ts';
import { fsTopology, startFsNode, startSimFarm } from '../../support/fs-node.ts';

/**
 * CTI adapters in a node, from the topology: `/services/cti/<key>` streams the call events of two simulated
 * FreeSWITCH hosts (ESL simulator, real PostgreSQL 15 for their recovery table) to a WebSocket and a gRPC client
 * on loopback. The farm's own stream (the migrator's `events`) is the truth each client's events are held to.
 */

const ADDR: Record<string, string> = { fs01: '127.0.0.41', fs02: '127.0.0.42' };
const TOKEN_ENV = 'MWARE_TEST_CTI_TOKEN';
const TOKEN = 'cti-node-token-0123456789abcdef';
const API_TOKEN = 'cti-api-token-0123456789abcdef';
const WS = '/services/cti/generic.json.websocket';
const GRPC = '/services/cti/generic.grpc';
const A = 'a.cti.test';
const B = 'b.cti.test';

describe('CTI adapters in a node (simulated FreeSWITCH hosts, real PostgreSQL, WebSocket and gRPC clients)', () => {
  let farm: SimFarm;
  let dir: string;
  let node: FsNode;
  const ports = { ws: 0, grpc: 0 };
  let api = '';
  const clients: CtiClient[] = [];

  before(async () => {
    process.env[TOKEN_ENV] = TOKEN;
    farm = await startSimFarm(
      'pg-cti',
      Object.entries(ADDR).map(([name, ip]) => ({ name, ip })),
    );
    dir = mkdtempSync(join(tmpdir(), 'mware-cti-'));
    const topology = await fsTopology(
      farm.db,
      Object.values(farm.sims).map((sim) => ({
        sim,
        sipIp: ADDR[sim.name]!,
        mediaIp: ADDR[sim.name]!,
        profiles: ['internal'],
      })),
    );
    [ports.ws, ports.grpc] = [await freePort(), await freePort()];
    const role = (topology.roles as Record<string, unknown>[])[0]!;
    role.cti_adapters = [
      { key: 'generic.json.websocket', iface: 'default', port: ports.ws, token: `\${env:${TOKEN_ENV}}` },
      { key: 'generic.grpc', port: ports.grpc, token: `\${env:${TOKEN_ENV}}`, buffer: 1_000 },
    ];
    topology.security = { api_tokens: [{ name: 'ops', token: API_TOKEN, scopes: ['admin'] }] };
    api = `http://127.0.0.1:${(role.api as { port: number }).port}`;
    node = await startFsNode(dir, topology);
    await until('hosts up', async () => (await node.farm()).hosts.every((h) => h.state === 'up'));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await node?.node.stop();
    await farm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    delete process.env[TOKEN_ENV];
  });

  const ws = async (after?: CtiClient): Promise<CtiClient> => {
    const c = await WsCtiClient.connect(`ws://127.0.0.1:${ports.ws}`, resumeFrom(after));
    clients.push(c);
    return c;
  };
  /** The gRPC client follows domain A only. */
  const grpc = (after?: CtiClient): CtiClient => {
    const c = new GrpcCtiClient(`127.0.0.1:${ports.grpc}`, { ...resumeFrom(after), domains: [A] });
    clients.push(c);
    return c;
  };
  const resumeFrom = (c: CtiClient | undefined) => {
    const stream = c?.stream();
    return { token: TOKEN, ...(c && { after: c.lastSeq() }), ...(stream && { stream }) };
  };
  /** The farm's stream after `seq`: what a client following it must have got. */
  const truth = async (after: number, domain?: string) => {
    const r = (await node.ask('/freeswitch/migrator', 'events', { after, limit: 10_000 })) as CallEventsReply;
    return r.events.filter((e) => domain === undefined || e.domain === domain).map((e) => e.seq);
  };
  const seqsOf = (...cs: CtiClient[]): number[] => cs.flatMap((c) => c.events().map((e) => e.seq));
  const hello = (c: CtiClient): CtiHello => {
    const h = c.messages[0];
    if (h?.type !== 'hello') throw new Error(`the first message is not a hello: ${JSON.stringify(h)}`);
    return h;
  };
  const ended = (c: CtiClient): boolean => c.ended !== undefined;
  async function callAndHangUp(host: string, domain: string, record = false): Promise<string[]> {
    const call = await farm.sims[host]!.placeCall({
      profile: 'internal',
      domain,
      caller: '1001',
      callee: '2002',
    });
    if (record)
      await node.ask(`/freeswitch/hosts/${host}`, 'api', {
        command: `uuid_record ${call.legs[0]} start /var/spool/rec/${call.legs[0]}.wav`,
      });
    await farm.sims[host]!.hangup(call.legs[0]!);
    return call.legs;
  }
  /** Waits until the farm has seen both legs of each call end (every event of them is in its stream). */
  async function settled(legs: string[]): Promise<void> {
    await until('every leg ended in the farm’s stream', async () => {
      const r = (await node.ask('/freeswitch/migrator', 'events', {
        after: 0,
        limit: 10_000,
      })) as CallEventsReply;
      return legs.every((u) => r.events.some((e) => e.uuid === u && e.kind === 'ended'));
    });
  }

  it('streams the hosts’ call events to a WebSocket client (all domains) and a gRPC client (domain A), resumes both after a disconnect with nothing lost, and through a crash of each adapter server', async () => {
    const w1 = await ws();
    const g1 = grpc();
    await w1.until('hello', (c) => c.messages.length > 0);
    await g1.until('hello', (c) => c.messages.length > 0);
    const start = hello(w1).last;
    assert.equal(hello(g1).stream === hello(w1).stream, false, 'each adapter has its own buffer and stream');

    // Live: a call on each host.
    const live = [...(await callAndHangUp('fs01', A, true)), ...(await callAndHangUp('fs02', B))];
    await settled(live);
    const liveAll = await truth(start);
    await w1.until('every live event', (c) => c.events().length === liveAll.length);
    const liveA = await truth(start, A);
    await g1.until('every live event of A', (c) => c.events().length === liveA.length);
    assert.deepEqual(seqsOf(w1), liveAll);
    assert.deepEqual(seqsOf(g1), liveA);
    const created = w1.events().find((e) => e.kind === 'created' && e.uuid === live[0]);
    assert.deepEqual(
      [created?.host, created?.domain, created?.caller, created?.callee],
      ['fs01', A, '1001', '2002'],
    );
    assert.ok(g1.events().some((e) => e.kind === 'bridged' && e.partner !== null));
    for (const c of [w1, g1])
      assert.deepEqual(
        c.events().flatMap((e) => (e.kind === 'recorded' ? [[e.uuid, e.recording]] : [])),
        [[live[0], `/var/spool/rec/${live[0]}.wav`]],
      );
    assert.ok(g1.events().every((e) => e.domain === A && e.host === 'fs01'));
    // The connected clients, through the message API (read scope).
    const res = await fetch(`${api}/api/v1/actors${WS}/messages?reply=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'clients' }),
    });
    assert.equal(res.status, 200);
    const body = await res.text();
    const listed = (JSON.parse(body) as { result: CtiClientInfo[] }).result;
    assert.deepEqual(
      listed.map((c) => [c.domains, c.cursor, c.sent]),
      [[[], liveAll.at(-1), liveAll.length]],
    );
    assert.ok(!body.includes(TOKEN));

    // Away: both disconnect; calls go on; both resume from their last sequence number.
    await w1.close();
    await g1.close();
    const away = [...(await callAndHangUp('fs02', A)), ...(await callAndHangUp('fs01', B))];
    await settled(away);
    const w2 = await ws(w1);
    const g2 = grpc(g1);
    const sinceStart = await truth(start);
    await w2.until('every event since the start', () => seqsOf(w1, w2).length === sinceStart.length);
    const sinceStartA = await truth(start, A);
    await g2.until('every A event since the start', () => seqsOf(g1, g2).length === sinceStartA.length);
    assert.deepEqual(seqsOf(w1, w2), sinceStart);
    assert.deepEqual(seqsOf(g1, g2), sinceStartA);
    assert.equal(hello(w2).resumed, true);
    assert.equal(hello(g2).resumed, true);

    // A crash: each adapter's actor is killed with its server; its clients are cut off, calls go on meanwhile.
    const restartsBefore = restarts(node.events);
    for (const path of [WS, GRPC]) node.node.directory.get(path)!.incarnation!.kill();
    await w2.until('cut off', ended);
    await g2.until('cut off', ended);
    const down = [...(await callAndHangUp('fs01', A)), ...(await callAndHangUp('fs02', B))];
    await settled(down);
    await until('both adapters restarted', async () => restarts(node.events) - restartsBefore >= 2);
    // The clients reconnect (a restarted server listens on the same port) and resume.
    let w3: CtiClient | undefined;
    await until('the WebSocket client reconnects', async () => {
      w3 = await ws(w2);
      await w3.until('hello', (c) => c.messages.length > 0, 2_000);
      return true;
    });
    const g3 = grpc(g2);
    const all = await truth(start);
    await w3!.until('every event since the start', () => seqsOf(w1, w2, w3!).length === all.length);
    const allA = await truth(start, A);
    await g3.until('every A event since the start', () => seqsOf(g1, g2, g3).length === allA.length);
    assert.deepEqual(seqsOf(w1, w2, w3!), all, 'the WebSocket client lost nothing and got nothing twice');
    assert.deepEqual(seqsOf(g1, g2, g3), allA, 'the gRPC client lost nothing and got nothing twice');
    assert.equal(hello(w3!).stream, hello(w1).stream, 'the buffer outlived the adapter server');
    assert.ok(![w1, w2, w3!, g1, g2, g3].some((c) => c.messages.some((m) => m.type === 'gap')));

    const status = (await node.ask(WS, 'status', null)) as CtiAdapterStatus;
    assert.equal(status.listening, `ws://127.0.0.1:${ports.ws}`);
    assert.equal(status.clients, 1);
    assert.ok(status.buffer.held >= all.length && status.buffer.capacity === 10_000);
    const metrics = await (
      await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    ).text();
    assert.match(metrics, /mware_cti_clients\{adapter="generic.json.websocket"[^}]*\} 1\b/);
    assert.match(metrics, /mware_cti_clients\{adapter="generic.grpc"[^}]*\} 1\b/);
    assert.match(
      metrics,
      new RegExp(`mware_cti_events_sent\\{adapter="generic.grpc"[^}]*\\} ${g3.events().length}\\b`),
    );
    assert.ok(!node.logLines.some((l) => l.includes(TOKEN)), 'the token is never logged');
  });

  it('refuses a client with a wrong token on both adapters', async () => {
    const w = await WsCtiClient.connect(`ws://127.0.0.1:${ports.ws}`, { token: 'not-the-token-0123456789' });
    const g = new GrpcCtiClient(`127.0.0.1:${ports.grpc}`, { token: 'not-the-token-0123456789' });
    clients.push(w, g);
    await w.until('refused', ended).catch(() => undefined);
    await g.until('refused', ended).catch(() => undefined);
    assert.equal(w.ended?.code, 4401);
    assert.equal(g.ended?.code, 16 /* UNAUTHENTICATED */);
  });
});

function restarts(events: InspectionEvent[]): number {
  return events.filter((e) => e.type === 'restarted' && (e.path === WS || e.path === GRPC)).length;
}
