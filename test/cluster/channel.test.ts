import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NodeChannel } from '../../src/cluster/channel.ts';
import { Connection } from '../../src/cluster/connection.ts';
import { frame } from '../../src/cluster/framing.ts';
import { silentLogger } from '../../src/log/log.ts';
import { freePort } from '../harness/ports.ts';

/** The node channel (02-runtime.md "Routing"): authenticated, sealed frames; refused when anything is off. */

const SECRET = 'cluster-secret-0123456789abcdef';
const code = (e: unknown) => (e as { code?: string }).code;

interface Node {
  name: string;
  port: number;
  channel: NodeChannel;
  handled: unknown[];
  down: [string, boolean][];
}

const nodes = new Map<string, Node>();
let ports: Record<string, number>;

async function node(name: string, secret = SECRET): Promise<Node> {
  const n: Node = {
    name,
    port: ports[name] as number,
    channel: undefined as unknown as NodeChannel,
    handled: [],
    down: [],
  };
  const peers = new Map(
    Object.entries(ports)
      .filter(([p]) => p !== name)
      .map(([p, port]) => [p, { host: '127.0.0.1', port }]),
  );
  n.channel = new NodeChannel({
    self: name,
    host: '127.0.0.1',
    port: n.port,
    secret,
    peers,
    log: silentLogger(),
    onRequest: async (from, body) => {
      n.handled.push(body);
      if ((body as { fail?: boolean }).fail) throw new Error(`refused by ${name}`);
      return { from, to: name, echo: body };
    },
    onMessage: (from, m) => (m.t === 'hb' ? { t: 'hb-ack', from: name } : undefined),
    onPeerDown: (peer, proven) => void n.down.push([peer, proven]),
  });
  await n.channel.listen();
  nodes.set(name, n);
  return n;
}

before(async () => {
  ports = { a: await freePort(), b: await freePort(), c: await freePort(), gone: await freePort() };
  await node('a');
  await node('b');
});
after(async () => {
  for (const n of nodes.values()) await n.channel.close();
});

/** A raw client that completes a real handshake with `peer` and hands back what it writes, to replay or alter. */
async function rawClient(as: string, peer: string, secret = SECRET) {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: ports[peer] as number }, () => resolve(s));
    s.once('error', reject);
  });
  const written: Buffer[] = [];
  const write: (b: Buffer) => boolean = socket.write.bind(socket);
  const conn = await Connection.client(socket, { self: as, peer, secret });
  (socket as unknown as { write: (b: Buffer) => boolean }).write = (b: Buffer) => (
    written.push(Buffer.from(b)),
    write(b)
  );
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { conn, written, raw: write, closed, socket };
}

describe('the node channel', () => {
  it('carries a request and its answer, and an error back as its class', async () => {
    const a = nodes.get('a') as Node;
    assert.deepEqual(await a.channel.request('b', { n: 1 }, 2_000), { from: 'a', to: 'b', echo: { n: 1 } });
    await assert.rejects(a.channel.request('b', { fail: true }, 2_000), /refused by b/);
    const b = nodes.get('b') as Node;
    assert.deepEqual(await b.channel.request('a', { n: 2 }, 2_000), { from: 'b', to: 'a', echo: { n: 2 } });
  });

  it('refuses a node that does not know the cluster secret, both ways', async () => {
    const intruder = await node('c', 'not-the-secret-0123456789');
    const before = (nodes.get('a') as Node).handled.length;
    await assert.rejects(
      intruder.channel.request('a', { n: 3 }, 2_000),
      (e) => code(e) === 'MW_ERR_PEER_UNAVAILABLE',
    );
    await assert.rejects(
      (nodes.get('a') as Node).channel.request('c', { n: 4 }, 2_000),
      (e) => code(e) === 'MW_ERR_PEER_UNAVAILABLE',
    );
    assert.equal((nodes.get('a') as Node).handled.length, before, 'nothing was delivered');
    await intruder.channel.close();
    nodes.delete('c');
  });

  it('refuses a name that is not a node of the cluster', async () => {
    await assert.rejects(rawClient('mallory', 'a'), (e) => code(e) === 'MW_ERR_CHANNEL_REFUSED');
  });

  it('closes a connection on a tampered frame and delivers nothing of it', async () => {
    const a = nodes.get('a') as Node;
    const before = a.handled.length;
    const c = await rawClient('b', 'a');
    c.conn.send({ t: 'req', id: 1, body: { amount: 10 }, timeoutMs: 1_000 });
    const sealed = c.written.pop() as Buffer;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.handled.length, before + 1, 'the genuine frame is delivered');
    const tampered = Buffer.from(sealed);
    const at = tampered.indexOf('10');
    tampered.write('99', at);
    const altered = Buffer.from(tampered);
    // Re-sealing is impossible without the session key: send the altered bytes as the next frame.
    c.raw(altered);
    await c.closed;
    assert.equal(a.handled.length, before + 1, 'the altered frame was not delivered');
  });

  it('closes a connection on a replayed frame, on the same connection or a new one', async () => {
    const a = nodes.get('a') as Node;
    const c = await rawClient('b', 'a');
    c.conn.send({ t: 'req', id: 7, body: { transfer: 'once' }, timeoutMs: 1_000 });
    const sealed = c.written.pop() as Buffer;
    await new Promise((r) => setTimeout(r, 100));
    const count = () => a.handled.filter((h) => (h as { transfer?: string }).transfer === 'once').length;
    assert.equal(count(), 1);
    c.raw(sealed);
    await c.closed;
    const d = await rawClient('b', 'a');
    d.raw(sealed);
    await d.closed;
    assert.equal(count(), 1, 'delivered exactly once');
  });

  it('closes a connection on garbage and on a frame longer than its limit, and keeps serving', async () => {
    const garbage = await rawClient('b', 'a');
    garbage.raw(
      frame(Buffer.from('not a sealed frame at all, and far too short? no: long enough to have a mac')),
    );
    await garbage.closed;
    const huge = await rawClient('b', 'a');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(100 * 1024 * 1024, 0);
    huge.raw(head);
    await huge.closed;
    assert.deepEqual(await (nodes.get('b') as Node).channel.request('a', { still: 'here' }, 2_000), {
      from: 'b',
      to: 'a',
      echo: { still: 'here' },
    });
  });

  it('tells a peer’s death proven when its host refuses the connection that was up', async () => {
    const gone = await node('gone');
    const a = nodes.get('a') as Node;
    assert.ok(await a.channel.request('gone', { hi: 1 }, 2_000));
    await gone.channel.close(); // nothing listens on its port any more: what a dead process leaves
    nodes.delete('gone');
    for (let i = 0; i < 100 && !a.down.some(([p]) => p === 'gone'); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      a.down.filter(([p]) => p === 'gone'),
      [['gone', true]],
    );
  });
});
