import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { PgServer } from '../postgres.ts';
import { startPostgres } from '../postgres.ts';
import type { SimHost, SimHostOptions } from './index.ts';
import { startEslSimulator } from './index.ts';
import { RawEsl } from './raw-client.ts';

/** The FreeSWITCH ESL simulator against one real PostgreSQL 15 (a fresh database per test). */

let server: PgServer;
let admin: pg.Client;
let dbCount = 0;
const hosts: SimHost[] = [];
const clients: RawEsl[] = [];

async function freshDb(): Promise<string> {
  const name = `fs_${++dbCount}`;
  await admin.query(`create database ${name}`);
  return `postgres://postgres@127.0.0.1:${server.port}/${name}`;
}

async function host(db: string, n: number, o: Partial<SimHostOptions> = {}): Promise<SimHost> {
  const ip = `127.0.0.${20 + n}`;
  const h = await startEslSimulator({
    name: `fs0${n}`,
    switchname: `freeswitch0${n}`,
    addresses: [ip],
    sipIp: ip,
    mediaIp: ip,
    profiles: ['internal', 'external'],
    db: { connectionString: db },
    recoverMsPerLeg: 1,
    bridgeDelayMs: 10,
    ...o,
  });
  hosts.push(h);
  return h;
}

async function client(h: SimHost, events?: string): Promise<RawEsl> {
  const c = await RawEsl.authed(h.eslPort);
  clients.push(c);
  if (events !== undefined) {
    c.send(`event ${events}`);
    await c.next();
  }
  return c;
}

async function rows(
  db: string,
): Promise<
  { runtime_uuid: string; hostname: string; uuid: string; profile_name: string; metadata: string }[]
> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    return (await c.query('select * from recovery order by uuid')).rows;
  } finally {
    await c.end();
  }
}

const call = { profile: 'internal', domain: 'example.com', caller: '1001', callee: '1002' } as const;

describe('the FreeSWITCH ESL simulator', () => {
  before(async () => {
    server = await startPostgres({ name: 'pg-esl-sim' });
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const h of hosts) await h.stop().catch(() => undefined);
    await admin?.end();
    await server?.stop();
  });

  describe('ESL protocol', () => {
    let db: string;
    let h: SimHost;
    before(async () => {
      db = await freshDb();
      h = await host(db, 1, { password: 'Secret1' });
    });

    it('greets with auth/request and no Content-Length, and accepts the right password with +OK accepted', async () => {
      const c = await RawEsl.open(h.eslPort);
      clients.push(c);
      assert.equal((await c.next()).raw, 'Content-Type: auth/request\n\n');
      c.send('auth Secret1');
      assert.equal((await c.next()).raw, 'Content-Type: command/reply\nReply-Text: +OK accepted\n\n');
    });

    it('answers a wrong password with -ERR invalid, a disconnect notice with its body, and closes', async () => {
      const c = await RawEsl.open(h.eslPort);
      clients.push(c);
      await c.next();
      c.send('auth nope');
      assert.equal((await c.next()).raw, 'Content-Type: command/reply\nReply-Text: -ERR invalid\n\n');
      const notice = await c.next();
      assert.equal(notice.headers['Content-Type'], 'text/disconnect-notice');
      assert.equal(Number(notice.headers['Content-Length']), notice.body.length);
      assert.ok(notice.body.length > 0);
      await c.waitClosed();
    });

    it('answers a command sent before auth with -ERR command not found', async () => {
      const c = await RawEsl.open(h.eslPort);
      clients.push(c);
      await c.next();
      c.send('api status');
      assert.equal(
        (await c.next()).raw,
        'Content-Type: command/reply\nReply-Text: -ERR command not found\n\n',
      );
    });

    it('frames api replies as api/response with the body byte length, in request order', async () => {
      const c = await RawEsl.authed(h.eslPort, 'Secret1');
      clients.push(c);
      c.socket.write('api global_getvar core_uuid\n\napi nosuchcmd x\n\napi show channels as json\n\n');
      const a = await c.next();
      assert.equal(a.raw, `Content-Type: api/response\nContent-Length: 36\n\n${h.coreUuid()}`);
      assert.equal((await c.next()).body, '-ERR nosuchcmd Command not found!\n');
      assert.equal((await c.next()).body, '{"row_count": 0}\n');
    });

    it('answers bgapi with +OK Job-UUID and sends a BACKGROUND_JOB with that Job-UUID to every subscribed listener', async () => {
      const c1 = await RawEsl.authed(h.eslPort, 'Secret1');
      const c2 = await RawEsl.authed(h.eslPort, 'Secret1');
      clients.push(c1, c2);
      for (const c of [c1, c2]) {
        c.send('event json BACKGROUND_JOB');
        assert.equal((await c.next()).headers['Reply-Text'], '+OK event listener enabled json');
      }
      c1.send('bgapi global_getvar core_uuid');
      const reply = await c1.next();
      const job = /^\+OK Job-UUID: (\S+)$/.exec(reply.headers['Reply-Text'] ?? '')?.[1];
      assert.ok(job, reply.raw);
      assert.equal(reply.headers['Job-UUID'], job);
      for (const c of [c1, c2]) {
        const e = RawEsl.json(await c.until((f) => f.headers['Content-Type'] === 'text/event-json'));
        assert.equal(e['Event-Name'], 'BACKGROUND_JOB');
        assert.equal(e['Job-UUID'], job);
        assert.equal(e['_body'], h.coreUuid());
      }
    });

    it('sends JSON events with Content-Length first and the common and channel headers', async () => {
      const c = await RawEsl.authed(h.eslPort, 'Secret1');
      clients.push(c);
      c.send('event json ALL');
      await c.next();
      const placed = await h.placeCall(call);
      const f = await c.until((x) => x.body.includes('"CHANNEL_BRIDGE"'));
      assert.ok(f.raw.startsWith(`Content-Length: ${f.body.length}\nContent-Type: text/event-json\n\n{`));
      const e = RawEsl.json(f);
      for (const k of [
        'Core-UUID',
        'FreeSWITCH-Hostname',
        'FreeSWITCH-Switchname',
        'FreeSWITCH-IPv4',
        'Event-Date-Timestamp',
        'Event-Sequence',
      ])
        assert.ok(e[k], k);
      assert.equal(e['Core-UUID'], h.coreUuid());
      assert.equal(e['FreeSWITCH-Switchname'], 'freeswitch01');
      assert.equal(e['Bridge-A-Unique-ID'], placed.legs[0]);
      assert.equal(e['Bridge-B-Unique-ID'], placed.legs[1]);
      assert.equal(e['Channel-Name'], 'sofia/internal/1001@example.com');
      assert.equal(e['variable_domain_name'], 'example.com');
      assert.equal(e['Answer-State'], 'answered');
    });

    it('passes only positive filter matches once a filter exists (regex with a leading /), BACKGROUND_JOB included', async () => {
      const c = await RawEsl.authed(h.eslPort, 'Secret1');
      clients.push(c);
      c.send('event json ALL');
      await c.next();
      c.send('filter Event-Name /^CHANNEL_(CREATE|ANSWER)$/');
      assert.equal(
        (await c.next()).headers['Reply-Text'],
        '+OK filter added. [Event-Name]=[/^CHANNEL_(CREATE|ANSWER)$/]',
      );
      c.send('bgapi status');
      await c.next();
      await h.placeCall(call);
      const names: string[] = [];
      await assert.rejects(async () => {
        for (;;) names.push(RawEsl.json(await c.next(300))['Event-Name'] ?? '');
      });
      assert.deepEqual(names.sort(), [
        'CHANNEL_ANSWER',
        'CHANNEL_ANSWER',
        'CHANNEL_CREATE',
        'CHANNEL_CREATE',
      ]);
    });

    it('sends plain events URL-encoded, and a caller name with an emoji as FreeSWITCH surrogate halves when asked', async () => {
      const e = await host(db, 2, { surrogateEncoding: true });
      const c = await client(e, 'plain CHANNEL_CREATE');
      await e.placeCall({ ...call, callerName: 'Ann 😀', bridged: false });
      const f = await c.until((x) => x.headers['Content-Type'] === 'text/event-plain');
      assert.match(f.body, /^Event-Name: CHANNEL_CREATE\n/);
      assert.match(f.body, /\nCaller-Caller-ID-Name: Ann%20%ED%A0%BD%ED%B8%80\n/);
      assert.match(f.body, /\nChannel-Name: sofia\/internal\/1001%40example.com\n/);
      const encoded = /Caller-Caller-ID-Name: (\S+)/.exec(f.body)?.[1] ?? '';
      assert.throws(() => decodeURIComponent(encoded), URIError);
    });

    it('kills a listener that lost more than 500 events with "killed listener because of lost events"', async () => {
      const kdb = await freshDb();
      const k = await host(kdb, 3, { eventQueueMax: 20, recoverMsPerLeg: 3 });
      const c = await client(k, 'json ALL');
      // The api blocks the connection (no flush meanwhile), as in mod_event_socket: a recover of 500 foreign rows
      // of a profile not running here takes 1.5 s, while 150 calls fire 750 events into a queue of 20.
      await admin.query('select 1');
      const filler = new pg.Client({ connectionString: kdb });
      await filler.connect();
      await filler.query(
        `insert into recovery select 'gone', 'sofia', 'nope', 'x', 'u' || g, '<cdr/>' from generate_series(1, 500) g`,
      );
      await filler.end();
      c.send('api fsctl recover');
      await new Promise((r) => setTimeout(r, 100));
      await k.placeCalls(150, call);
      const notice = await c.until((f) => f.headers['Content-Type'] === 'text/disconnect-notice', 10_000);
      assert.equal(notice.body, 'killed listener because of lost events\n');
      await c.waitClosed();
    });

    it('says +OK bye to exit and then sends the disconnect notice', async () => {
      const c = await RawEsl.authed(h.eslPort, 'Secret1');
      clients.push(c);
      c.send('exit');
      assert.equal((await c.next()).headers['Reply-Text'], '+OK bye');
      assert.equal((await c.next()).headers['Content-Type'], 'text/disconnect-notice');
      await c.waitClosed();
    });
  });
});
