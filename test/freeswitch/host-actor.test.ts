import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { CallEventsReply, FsChannel, FsHostStatus } from '../../actors/freeswitch/protocol.ts';
import { RecoveryTable } from '../../src/freeswitch/recovery-table.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';
import { startEslSimulator } from '../harness/esl-simulator/index.ts';
import type { SimHost } from '../harness/esl-simulator/index.ts';
import type { PgServer } from '../harness/postgres.ts';
import { startPostgres } from '../harness/postgres.ts';
import type { FsNode } from '../support/fs-node.ts';
import { fsTopology, startFsNode } from '../support/fs-node.ts';

/**
 * FreeswitchHostActor in a node: one simulated FreeSWITCH (real PostgreSQL behind it) and one ESL peer that
 * misbehaves on demand (garbage, an oversized frame, a frame split into single bytes), scripted here byte by byte.
 */

type Mode = 'good' | 'garbage' | 'oversized';

/** A peer that authenticates, answers what a host actor asks at connect, then does what `mode` says. */
class UnrulyPeer {
  server: Server;
  mode: Mode = 'good';
  sockets = new Set<Socket>();
  connects = 0;
  port = 0;
  constructor() {
    this.server = createServer((s) => this.accept(s));
  }
  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }
  private accept(s: Socket): void {
    this.connects++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    s.write('Content-Type: auth/request\n\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const cmd = buf.slice(0, i).trim();
        buf = buf.slice(i + 2);
        this.answer(s, cmd);
      }
    });
  }
  /** While a frame trickles out, replies wait (FreeSWITCH writes one frame at a time). */
  private held: (() => void)[] | null = null;
  private answer(s: Socket, cmd: string): void {
    if (this.held) {
      this.held.push(() => this.answer(s, cmd));
      return;
    }
    const reply = (t: string): void => void s.write(`Content-Type: command/reply\nReply-Text: ${t}\n\n`);
    const api = (body: string): void =>
      void s.write(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`);
    if (cmd.startsWith('auth ')) return reply('+OK accepted');
    if (cmd.startsWith('event ')) return reply('+OK event listener enabled json');
    if (cmd === 'api global_getvar core_uuid') return api('unruly-core');
    if (cmd === 'api status')
      return api(
        'UP 0 years\nFreeSWITCH (Version 1.10.12) is ready\n0 session(s) - peak 0\n1000 session(s) max\n',
      );
    if (cmd === 'api fsctl pause_check') return api('false');
    if (cmd.startsWith('api show ')) return api('{"row_count": 0}');
    return api('-ERR unknown');
  }
  /** Sends a frame to every connection, one byte at a time. */
  async trickle(frame: string): Promise<void> {
    this.held = [];
    for (const s of this.sockets)
      for (const ch of Buffer.from(frame)) {
        s.write(Buffer.from([ch]));
        await new Promise((r) => setImmediate(r));
      }
    const held = this.held;
    this.held = null;
    for (const f of held) f();
  }
  send(raw: string): void {
    for (const s of this.sockets) s.write(raw);
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

function jsonEvent(fields: Record<string, string>): string {
  const body = JSON.stringify(fields);
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
}

describe('FreeswitchHostActor (a simulated host, an unruly ESL peer, real PostgreSQL)', () => {
  let server: PgServer;
  let admin: pg.Client;
  let dir: string;
  let node: FsNode;
  let sim: SimHost;
  const peer = new UnrulyPeer();

  before(async () => {
    server = await startPostgres({ name: 'pg-fs-host' });
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE ROLE fs LOGIN');
    await new RecoveryTable(admin).install();
    sim = await startEslSimulator({
      name: 'fs01',
      switchname: 'freeswitch01',
      addresses: ['127.0.0.21'],
      sipIp: '127.0.0.21',
      mediaIp: '127.0.0.21',
      profiles: ['internal'],
      db: { connectionString: `postgres://fs@${server.host}:${server.port}/postgres` },
    });
    await peer.listen();
    const unruly = { name: 'bad', switchname: 'unruly', eslPort: peer.port } as unknown as SimHost;
    dir = mkdtempSync(join(tmpdir(), 'mware-fs-host-'));
    node = await startFsNode(
      dir,
      await fsTopology({ host: server.host, port: server.port, database: 'postgres', user: 'postgres' }, [
        { sim, sipIp: '127.0.0.21', mediaIp: '127.0.0.21', profiles: ['internal'] },
        { sim: unruly, sipIp: '127.0.0.29', mediaIp: '127.0.0.29', profiles: ['internal'] },
      ]),
    );
    await until('both hosts up', async () => (await hosts()).every((h) => h.state === 'up'));
  });
  after(async () => {
    await node?.node.stop();
    await sim?.stop();
    await peer.close();
    await admin?.end();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const hosts = async (): Promise<FsHostStatus[]> => (await node.farm()).hosts;
  const channels = (host: string): Promise<FsChannel[]> =>
    node.ask(`/freeswitch/hosts/${host}`, 'channels', null) as Promise<FsChannel[]>;
  const restartsOf = (path: string): number =>
    node.events.filter((e: InspectionEvent) => e.type === 'restarted' && e.path === path).length;

  async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > deadline)
        throw new Error(`timed out: ${what}; hosts ${JSON.stringify(await hosts())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('tracks channels and bridges, and publishes one typed call-event stream with domain, numbers and uuids', async () => {
    const { next: from } = (await node.ask('/freeswitch/migrator', 'events', {
      after: 0,
      limit: 10_000,
    })) as CallEventsReply;
    const call = await sim.placeCall({
      profile: 'internal',
      domain: 'a.test',
      caller: '1001',
      callee: '2002',
    });
    await until('both legs tracked and bridged', async () => {
      const ch = await channels('fs01');
      return call.legs.every((u) => ch.find((c) => c.uuid === u)?.partner);
    });
    const ch = await channels('fs01');
    const a = ch.find((c) => c.uuid === call.legs[0])!;
    assert.equal(a.partner, call.legs[1]);
    assert.equal(a.answered, true);
    assert.equal(a.profile, 'internal');
    await sim.hangup(call.legs[0]!);
    await until('both legs gone', async () => (await channels('fs01')).length === 0);
    const { events } = (await node.ask('/freeswitch/migrator', 'events', { after: from })) as CallEventsReply;
    const mine = events.filter((e) => call.legs.includes(e.uuid));
    const kinds = new Set(mine.map((e) => e.kind));
    for (const k of ['created', 'answered', 'bridged', 'ended'])
      assert.ok(kinds.has(k as never), `no ${k} event: ${[...kinds].join(',')}`);
    const created = mine.find((e) => e.kind === 'created' && e.uuid === call.legs[0])!;
    assert.deepEqual(
      [created.host, created.domain, created.caller, created.callee],
      ['fs01', 'a.test', '1001', '2002'],
    );
    assert.ok(mine.find((e) => e.kind === 'ended')?.cause);
    // Sequence numbers only grow.
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
  });

  it('reconciles its channel set with show channels after a reconnect', async () => {
    const call = await sim.placeCall({
      profile: 'internal',
      domain: 'b.test',
      caller: '3001',
      callee: '4002',
    });
    await until('tracked', async () => (await channels('fs01')).length === 2);
    // The session drops (the ESL socket closed by the host); channels on the host stay.
    const before = restartsOf('/freeswitch/hosts/fs01');
    sim.dropConnections();
    await until(
      'restarted and up again',
      async () =>
        restartsOf('/freeswitch/hosts/fs01') > before &&
        (await hosts()).find((h) => h.name === 'fs01')?.state === 'up',
    );
    const ch = await channels('fs01');
    assert.deepEqual(ch.map((c) => c.uuid).sort(), [...call.legs].sort());
    assert.equal(ch.find((c) => c.uuid === call.legs[0])?.partner, call.legs[1]);
    await sim.hangup(call.legs[0]!);
  });

  it('a frame split into single bytes is read as one event; the actor does not restart', async () => {
    const before = restartsOf('/freeswitch/hosts/bad');
    await peer.trickle(
      jsonEvent({
        'Event-Name': 'CHANNEL_CREATE',
        'Unique-ID': 'split-1',
        'Call-Direction': 'inbound',
        'Channel-Name': 'sofia/internal/1@x',
        'Answer-State': 'answered',
      }),
    );
    await until('the split event tracked', async () =>
      (await channels('bad')).some((c) => c.uuid === 'split-1'),
    );
    assert.equal(restartsOf('/freeswitch/hosts/bad'), before);
  });

  for (const [what, raw] of [
    ['garbage', 'this is not ESL\x00\xff at all\n\n'],
    ['an oversized frame', `Content-Length: ${64 * 1024 * 1024}\nContent-Type: text/event-json\n\n{`],
    ['a JSON event body that does not parse', 'Content-Length: 5\nContent-Type: text/event-json\n\n{oops'],
  ] as const)
    it(`${what} from the peer restarts its host actor; the node and the other host carry on`, async () => {
      const before = restartsOf('/freeswitch/hosts/bad');
      const connects = peer.connects;
      peer.send(raw);
      await until(
        'restarted and reconnected',
        async () => restartsOf('/freeswitch/hosts/bad') > before && peer.connects > connects,
      );
      await until('up again', async () => (await hosts()).find((h) => h.name === 'bad')?.state === 'up');
      assert.equal((await hosts()).find((h) => h.name === 'fs01')?.state, 'up');
      assert.equal(restartsOf('/freeswitch/hosts/fs01'), 1, 'the other host was disturbed');
    });

  it('a paused host is up and paused, never down (FreeSWITCH says "not ready" while paused)', async () => {
    sim.pause();
    try {
      await until('paused seen', async () => (await hosts()).find((h) => h.name === 'fs01')?.paused === true);
      // Longer than confirm_ms (500 ms): a host taken for down would be failed over (and stopped) by now.
      await new Promise((r) => setTimeout(r, 1_500));
      const h = (await hosts()).find((x) => x.name === 'fs01')!;
      assert.deepEqual([h.state, h.paused], ['up', true]);
      assert.equal((await node.farm()).recent.length, 0, 'a migration was started for a paused host');
    } finally {
      sim.resume();
    }
  });

  it('a host that stops answering status within its deadline is declared down, though its socket stays open', async () => {
    sim.freeze();
    try {
      await until(
        'fs01 down',
        async () => (await hosts()).find((h) => h.name === 'fs01')?.state !== 'up',
        8_000,
      );
    } finally {
      sim.thaw();
    }
    await until('fs01 up again', async () => (await hosts()).find((h) => h.name === 'fs01')?.state === 'up');
  });
});
