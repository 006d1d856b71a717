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

interface RecoveryRow {
  runtime_uuid: string;
  hostname: string;
  uuid: string;
  profile_name: string;
  metadata: string;
}

async function rows(db: string): Promise<RecoveryRow[]> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    return (await c.query<RecoveryRow>('select * from recovery order by uuid')).rows;
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

    it('originates an answered outbound leg with +OK <uuid>, and fails with -ERR <CAUSE>', async () => {
      const c = await RawEsl.authed(h.eslPort, 'Secret1');
      clients.push(c);
      const ok = await c.api('originate sofia/internal/1003@example.com &park()');
      const uuid = /^\+OK (\S+)\n$/.exec(ok)?.[1];
      assert.ok(uuid, ok);
      assert.equal(h.channels().find((x) => x.uuid === uuid)?.direction, 'outbound');
      assert.equal(await c.api('originate error/USER_BUSY &park()'), '-ERR USER_BUSY\n');
      assert.equal(
        await c.api('originate sofia/nosuch/1003@example.com &park()'),
        '-ERR NORMAL_TEMPORARY_FAILURE\n',
      );
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

  describe('recovery table and fsctl recover', () => {
    /** b owns a's media address too (a floating IP), unless told otherwise. */
    async function pair(
      o: Partial<SimHostOptions> = { addresses: ['127.0.0.26', '127.0.0.25'] },
    ): Promise<{ db: string; a: SimHost; b: SimHost }> {
      const db = await freshDb();
      const a = await host(db, 5);
      const b = await host(db, 6, o);
      return { db, a, b };
    }

    it('writes a row per answered leg with its core UUID and switchname, over a connection named after the switchname', async () => {
      const { db, a } = await pair();
      const placed = await a.placeCall(call);
      const r = await rows(db);
      assert.deepEqual(r.map((x) => x.uuid).sort(), [...placed.legs].sort());
      assert.ok(r.every((x) => x.runtime_uuid === a.coreUuid() && x.hostname === 'freeswitch05'));
      assert.match(r[0]?.metadata ?? '', /<variables>[\s\S]*<local_media_ip>127.0.0.25<\/local_media_ip>/);
      const apps = await admin.query(
        `select application_name from pg_stat_activity where datname = $1 and application_name like 'freeswitch%'`,
        [db.split('/').pop()],
      );
      assert.ok(apps.rows.some((x: { application_name: string }) => x.application_name === 'freeswitch05'));
    });

    it("updates a row by uuid on uuid_bridge and deletes only the hung-up call's rows by uuid", async () => {
      const { db, a } = await pair();
      const x = await a.placeCall({ ...call, bridged: false });
      const y = await a.placeCall({ ...call, bridged: false });
      const keep = await a.placeCall(call);
      const c = await client(a);
      assert.equal(await c.api(`uuid_bridge ${x.legs[0]} ${y.legs[0]}`), `+OK ${y.legs[0]}\n`);
      await a.idle();
      const meta = (await rows(db)).find((r) => r.uuid === x.legs[0])?.metadata ?? '';
      assert.match(meta, new RegExp(`<signal_bond>${y.legs[0]}</signal_bond>`));
      assert.equal(await c.api(`uuid_kill ${x.legs[0]}`), '+OK\n');
      assert.equal(await c.api(`uuid_kill ${x.legs[0]}`), '-ERR No such channel!\n');
      assert.deepEqual((await rows(db)).map((r) => r.uuid).sort(), [...keep.legs].sort());
    });

    it('has a new core UUID after every restart, and fsctl crash closes the connection with no reply and leaves the rows', async () => {
      const { db, a } = await pair();
      await a.placeCall(call);
      const first = a.coreUuid();
      const c = await client(a);
      c.send('api fsctl crash');
      await c.waitClosed();
      await assert.rejects(c.next(50));
      assert.equal(a.channels().length, 0);
      assert.equal((await rows(db)).length, 2);
      await a.restart();
      const c2 = await client(a);
      const second = await c2.api('global_getvar core_uuid');
      assert.notEqual(second, first);
      assert.equal(second, a.coreUuid());
    });

    it('recovers the rows of other runtimes: same uuids, recovered CHANNEL_CREATE, CHANNEL_BRIDGE, no CHANNEL_ANSWER, rows moved', async () => {
      const { db, a, b } = await pair();
      const placed = await a.placeCall(call);
      const answered = (await rows(db))[0]?.metadata.match(/<answered_time>(\d+)</)?.[1];
      await a.crash();
      const c = await client(b, 'json ALL');
      c.send('api fsctl recover');
      const reply = await c.until((f) => f.headers['Content-Type'] === 'api/response');
      assert.equal(reply.body, '+OK 2 session(s) recovered in total\n');
      const r = await rows(db);
      assert.deepEqual(r.map((x) => x.uuid).sort(), [...placed.legs].sort());
      assert.ok(r.every((x) => x.runtime_uuid === b.coreUuid() && x.hostname === 'freeswitch06'));
      const seen: Record<string, string>[] = [];
      await c.until((f) => {
        if (f.headers['Content-Type'] === 'text/event-json') seen.push(RawEsl.json(f));
        return f.body.includes('"CHANNEL_BRIDGE"');
      });
      const creates = seen.filter((e) => e['Event-Name'] === 'CHANNEL_CREATE');
      assert.equal(creates.length, 2);
      for (const e of creates) {
        assert.equal(e['Channel-State'], 'CS_INIT');
        assert.equal(e['Answer-State'], 'answered');
        assert.equal(e['variable_recovered'], 'true');
        assert.ok(Number(e['Caller-Channel-Resurrect-Time']) > 0);
      }
      assert.ok(creates.some((e) => e['Caller-Channel-Answered-Time'] === answered));
      assert.ok(!seen.some((e) => e['Event-Name'] === 'CHANNEL_ANSWER'));
      const bridge = seen.at(-1) ?? {};
      assert.equal(bridge['Bridge-A-Unique-ID'], placed.legs[0]);
      const json = JSON.parse(await c.api('show channels as json')) as {
        rows: { direction: string; callstate: string }[];
      };
      assert.equal(json.rows.find((x) => x.direction === 'outbound')?.callstate, 'DOWN');
    });

    it("recovers with the profile form only that profile's rows and deletes only those", async () => {
      const { db, a, b } = await pair();
      const internal = await a.placeCall(call);
      const external = await a.placeCall({ ...call, profile: 'external' });
      await a.crash();
      const c = await client(b);
      assert.equal(await c.api('fsctl recover sofia:internal'), '+OK 2 session(s) recovered in total\n');
      const r = await rows(db);
      assert.deepEqual(
        r
          .filter((x) => x.runtime_uuid !== b.coreUuid())
          .map((x) => x.uuid)
          .sort(),
        [...external.legs].sort(),
      );
      assert.deepEqual(
        b
          .channels()
          .map((x) => x.uuid)
          .sort(),
        [...internal.legs].sort(),
      );
    });

    it('fails every recovery on a paused target and deletes the rows anyway', async () => {
      const { db, a, b } = await pair();
      await a.placeCall(call);
      await a.crash();
      const c = await client(b);
      assert.equal(await c.api('fsctl pause'), '+OK\n');
      assert.equal(await c.api('fsctl recover'), '+OK 0 session(s) recovered in total\n');
      assert.equal((await rows(db)).length, 0);
      assert.equal(b.channels().length, 0);
    });

    it('refuses a row whose uuid already lives here (not counted) and still deletes it', async () => {
      const { db, b } = await pair();
      const live = await b.placeCall({ ...call, bridged: false });
      const copy = (await rows(db))[0];
      const w = new pg.Client({ connectionString: db });
      await w.connect();
      await w.query(
        `insert into recovery values ('old-runtime', 'sofia', 'internal', 'freeswitch05', $1, $2)`,
        [copy?.uuid, copy?.metadata],
      );
      await w.end();
      const c = await client(b);
      assert.equal(await c.api('fsctl recover'), '+OK 0 session(s) recovered in total\n');
      const r = await rows(db);
      assert.deepEqual(
        r.map((x) => x.runtime_uuid),
        [b.coreUuid()],
      );
      assert.equal(r[0]?.uuid, live.legs[0]);
    });

    it("hangs up at once with INCOMPATIBLE_DESTINATION a leg whose media IP is not the target's, counted, rows gone", async () => {
      const { db, a, b } = await pair({});
      const placed = await a.placeCall(call);
      await a.crash();
      // Both hosts share 127/8 locally, but b owns only 127.0.0.26: a's media IP 127.0.0.25 cannot be bound.
      const c = await client(b);
      assert.equal(await c.api('fsctl recover'), '+OK 2 session(s) recovered in total\n');
      const causes = b.hangups().map((x) => [x.uuid, x.cause]);
      assert.deepEqual(causes.sort(), placed.legs.map((u) => [u, 'INCOMPATIBLE_DESTINATION']).sort());
      assert.equal(b.channels().length, 0);
      assert.equal((await rows(db)).length, 0);
    });

    it('hangs up with RECOVERY_ON_TIMER_EXPIRE after the re-INVITE window the legs whose peer answers the old address', async () => {
      const db = await freshDb();
      const shared = { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30', reinviteWindowMs: 300 };
      const a = await host(db, 7, shared);
      const b = await host(db, 8, shared);
      const lost = await a.placeCall({ ...call, peer: 'old-address' });
      const kept = await a.placeCall({ ...call, peer: 'rport' });
      await a.crash();
      const c = await client(b);
      const t0 = Date.now();
      assert.equal(await c.api('fsctl recover'), '+OK 4 session(s) recovered in total\n');
      assert.equal(b.hangups().length, 0);
      await new Promise((r) => setTimeout(r, 600));
      const h = b.hangups();
      assert.deepEqual(h.map((x) => x.uuid).sort(), [...lost.legs].sort());
      assert.ok(h.every((x) => x.cause === 'RECOVERY_ON_TIMER_EXPIRE' && x.at - t0 >= 300));
      assert.deepEqual(
        b
          .channels()
          .map((x) => x.uuid)
          .sort(),
        [...kept.legs].sort(),
      );
    });

    it('loses in via mode the outbound leg whose Via names a host the target does not own, and keeps it when it does', async () => {
      const db = await freshDb();
      const a = await host(db, 9, { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30' });
      const b = await host(db, 10, {
        addresses: ['127.0.0.30'],
        mediaIp: '127.0.0.30',
        reinviteWindowMs: 200,
      });
      const placed = await a.placeCall({ ...call, peer: 'via' });
      await a.crash();
      const c = await client(b);
      await c.api('fsctl recover');
      await new Promise((r) => setTimeout(r, 400));
      // The outbound leg's re-INVITE goes unanswered; its hangup ends the bridge, so the call is lost.
      const h = b.hangups();
      assert.equal(h[0]?.uuid, placed.legs[1]);
      assert.deepEqual(
        h.map((x) => [x.uuid, x.cause]).sort(),
        placed.legs.map((u) => [u, 'RECOVERY_ON_TIMER_EXPIRE']).sort(),
      );
      // The same with the source's SIP address floating to the target: nothing is lost.
      const db2 = await freshDb();
      const a2 = await host(db2, 11, { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30' });
      const b2 = await host(db2, 12, {
        addresses: ['127.0.0.30', '127.0.0.31'],
        mediaIp: '127.0.0.30',
        reinviteWindowMs: 200,
      });
      await a2.placeCall({ ...call, peer: 'via' });
      await a2.crash();
      const c2 = await client(b2);
      await c2.api('fsctl recover');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(b2.hangups().length, 0);
    });

    it('leaves the selected rows when the clean-up is made to fail', async () => {
      const db = await freshDb();
      const shared = { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30' };
      const a = await host(db, 13, shared);
      const b = await host(db, 14, shared);
      const placed = await a.placeCall(call);
      await a.crash();
      b.failNextCleanup();
      const c = await client(b);
      assert.equal(await c.api('fsctl recover'), '+OK 2 session(s) recovered in total\n');
      const r = await rows(db);
      assert.equal(r.length, 4);
      assert.deepEqual(
        r
          .filter((x) => x.runtime_uuid === b.coreUuid())
          .map((x) => x.uuid)
          .sort(),
        [...placed.legs].sort(),
      );
    });

    it("lets a living source delete by uuid the target's row of a call it hangs up", async () => {
      const db = await freshDb();
      const shared = { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30' };
      const a = await host(db, 15, shared);
      const b = await host(db, 16, shared);
      const placed = await a.placeCall(call);
      await (await client(b)).api('fsctl recover');
      assert.equal((await rows(db)).filter((x) => x.runtime_uuid === b.coreUuid()).length, 2);
      await a.hangup(placed.legs[0] as string);
      assert.equal((await rows(db)).length, 0);
    });

    it('re-joins a conference member under the same conference name', async () => {
      const db = await freshDb();
      const shared = { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30' };
      const a = await host(db, 17, shared);
      const b = await host(db, 18, shared);
      const m = await a.placeCall({ ...call, conference: 'room1' });
      assert.match(
        await (await client(a)).api('conference room1 list'),
        new RegExp(`^1;sofia/internal/1001@example.com;${m.legs[0]};1001;1001;hear\\|speak;0;0;300\\n$`),
      );
      await a.crash();
      const c = await client(b, 'json CUSTOM conference::maintenance');
      await c.api('fsctl recover');
      const e = RawEsl.json(await c.until((f) => f.headers['Content-Type'] === 'text/event-json'));
      assert.equal(e['Action'], 'add-member');
      assert.equal(e['Conference-Name'], 'room1');
      assert.match(await c.api('conference room1 list'), new RegExp(`;${m.legs[0]};`));
    });

    it('binds a recovered leg to the port of its metadata even where a live channel uses it; the older one loses its media', async () => {
      const db = await freshDb();
      const shared = { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30' };
      const a = await host(db, 22, shared);
      const b = await host(db, 23, shared);
      const own = await b.placeCall(call);
      const moved = await a.placeCall(call);
      await a.crash();
      // The second leg's row gets a port free on b (as mware's migration does); the first keeps a's port.
      const [keep, free] = moved.legs as [string, string];
      const ownPorts = b.channels().map((x) => x.mediaPort);
      assert.ok(!ownPorts.includes(31_000));
      const pc = new pg.Client({ connectionString: db });
      await pc.connect();
      try {
        const r = await pc.query(
          `update recovery set metadata = regexp_replace(metadata, '<local_media_port>[0-9]+</local_media_port>',
             '<local_media_port>31000</local_media_port>') where uuid = $1`,
          [free],
        );
        assert.equal(r.rowCount, 1);
      } finally {
        await pc.end();
      }
      assert.equal(await (await client(b)).api('fsctl recover'), '+OK 2 session(s) recovered in total\n');
      const chans = new Map(b.channels().map((x) => [x.uuid, x]));
      const kept = chans.get(keep)!;
      const victim = b.channels().find((x) => own.legs.includes(x.uuid) && x.mediaPort === kept.mediaPort);
      // Both hosts allocate from the start of the range: the kept port is one b's own call is using.
      assert.ok(victim, `no own leg of b on ${kept.mediaPort}: ${JSON.stringify(ownPorts)}`);
      assert.deepEqual(kept.mediaSharedWith, [victim.uuid]);
      assert.deepEqual(victim.mediaSharedWith, [keep]);
      assert.deepEqual([victim.receivesMedia, kept.receivesMedia], [false, true]);
      // Nothing says so: no hangup, every channel up.
      assert.deepEqual(b.hangups(), []);
      assert.equal(b.channels().length, 4);
      const rewritten = chans.get(free)!;
      assert.deepEqual(
        [rewritten.mediaPort, rewritten.mediaSharedWith, rewritten.receivesMedia],
        [31_000, [], true],
      );
      for (const u of own.legs) if (u !== victim.uuid) assert.equal(chans.get(u)!.receivesMedia, true);
    });

    it('takes recoverMsPerLeg per leg: 200 legs take at least 200 × 5 ms', async () => {
      const db = await freshDb();
      const shared = { addresses: ['127.0.0.30'], mediaIp: '127.0.0.30' };
      const a = await host(db, 19, shared);
      const b = await host(db, 20, { ...shared, recoverMsPerLeg: 5 });
      await a.placeCalls(100, call);
      await a.crash();
      const c = await client(b);
      const t0 = Date.now();
      assert.equal(await c.api('fsctl recover'), '+OK 200 session(s) recovered in total\n');
      assert.ok(Date.now() - t0 >= 1_000, `took ${Date.now() - t0} ms`);
    });

    it('holds 2,000 channels: 1,000 bridged calls placed in seconds and listed by show channels', async () => {
      const db = await freshDb();
      const a = await host(db, 21);
      const t0 = Date.now();
      await a.placeCalls(1_000, call);
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
      const c = await client(a);
      const json = JSON.parse(await c.api('show channels as json')) as { row_count: number };
      assert.equal(json.row_count, 2_000);
      assert.equal((await rows(db)).length, 2_000);
    });
  });
});
