import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { MonitorArgs } from '../../../actors/monitors/monitor-actor.ts';
import { monitorActor } from '../../../actors/monitors/monitor-actor.ts';
import type { MonitorProtocol, MonitorStatus } from '../../../actors/monitors/protocol.ts';
import { alarmOf } from '../../../actors/syslog-snmp/alarms.ts';
import { ActorRef } from '../../../src/actor-system/actor-ref.ts';
import type { Behavior } from '../../../src/actor-system/kind.ts';
import type { Deviation } from '../../../src/monitor/deviation.ts';
import { pgLimits } from '../../../src/pg/db.ts';
import { ManualClock } from '../../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../../src/supervision/events.ts';
import { Monitor, Topology } from '../../../topology/schema.ts';
import type { PgServer } from '../../harness/index.ts';
import { freePort, startPostgres } from '../../harness/index.ts';
import { until } from '../../harness/poll.ts';
import { oneNodeTopology, startInProcessNode } from '../../support/in-process-node.ts';
import { httpStub, listenTcp } from './listeners.ts';
import { testActorContext } from '../../support/actor-context.ts';

/**
 * Starts: one real PostgreSQL 15 (the registrar's database, with Kamailio's usrloc `location` table from
 * test/fixtures/kamailio), TCP listeners and HTTP servers on 127.0.0.1 for the probes, and one in-process node.
 */

let pgServer: PgServer;
let db: pg.Client;

before(async () => {
  pgServer = await startPostgres({ name: 'registrar' });
  db = new pg.Client({ connectionString: pgServer.url });
  await db.connect();
  await db.query(readFileSync(new URL('../../fixtures/kamailio/usrloc-create.sql', import.meta.url), 'utf8'));
});
after(async () => {
  await db?.end();
  await pgServer?.stop();
});

interface Running {
  actor: Behavior<MonitorProtocol>;
  clock: ManualClock;
  notices: ServiceNotice[];
  check(): Promise<MonitorStatus>;
  status(): MonitorStatus;
  deviations(): Deviation[];
}

const running: Behavior<MonitorProtocol>[] = [];
after(async () => {
  for (const a of running) await a.stop?.();
});

async function startMonitor(config: unknown, more: Partial<MonitorArgs> = {}): Promise<Running> {
  const clock = new ManualClock();
  const notices: ServiceNotice[] = [];
  const parsed = Monitor.parse(config);
  const actor = await monitorActor.create(
    {
      config: parsed,
      topology:
        more.topology ??
        Topology.parse({
          cluster: 't',
          sites: [{ name: 's' }],
          servers: [{ name: 'a', site: 's', ifaces: {} }],
          roles: [],
        }),
      notice: (n) => notices.push(n),
      leading: () => true,
      epoch: () => 7,
      pgLimits: pgLimits({ connectTimeoutMs: 500, statementTimeoutMs: 1_000, queryTimeoutMs: 1_500 }),
      ...more,
    },
    testActorContext(`/services/monitors/${parsed.name}`, { clock }).context,
  );
  running.push(actor);
  return {
    actor,
    clock,
    notices,
    check: () => actor.handlers.check.call(actor, null) as Promise<MonitorStatus>,
    status: () => actor.handlers.status.call(actor, null) as MonitorStatus,
    deviations: () => actor.handlers.deviations.call(actor, null) as Deviation[],
  };
}

const kinds = (ds: Deviation[]) => ds.map((d) => `${d.kind} ${d.message}`).sort();

describe('megaco monitor', () => {
  it('raises megaco-down after `confirm` failing rounds, as an alarm, and clears it on the first good one', async () => {
    const up = await listenTcp();
    const downPort = await freePort();
    const m = await startMonitor({
      name: 'megaco',
      kind: 'megaco',
      confirm: 2,
      links: [
        { mgc: 'mgc1', mg: 'mg1', probe: { type: 'tcp', host: '127.0.0.1', port: up.port } },
        { mgc: 'mgc1', mg: 'mg2', probe: { type: 'tcp', host: '127.0.0.1', port: downPort } },
      ],
    });
    try {
      const since = new Date(m.clock.wallNow()).toISOString();
      await m.clock.advance(0); // the first round is due at once
      await until('the first round', async () => m.status().rounds === 1, { ms: 5_000, everyMs: 10 });
      const first = m.status();
      assert.deepEqual(m.deviations(), [], 'one failed round is not an outage');
      assert.deepEqual(
        first.conditions.map((c) => [c.key, c.failing, c.failures, c.raised]),
        [
          ['megaco-down:mgc1:mg1', false, 0, false],
          ['megaco-down:mgc1:mg2', true, 1, false],
        ],
      );
      await m.clock.advance(5_000);
      assert.equal(m.status().rounds, 1, 'the next round is due after interval_ms (10 s)');
      await m.check();
      const [d, ...rest] = m.deviations();
      assert.deepEqual(rest, []);
      assert.equal(d?.kind, 'megaco-down');
      assert.equal(d?.severity, 'critical');
      assert.equal(d?.source, '/services/monitors/megaco');
      assert.equal(d?.since, since, 'since the first failing round');
      assert.match(d?.message ?? '', /MEGACO mgc1–mg2 is down: .*ECONNREFUSED/);
      const raised = m.notices.filter((n) => n.event === 'raised');
      assert.equal(raised.length, 1);
      assert.ok(alarmOf({ ...raised[0]!, path: '/services/monitors/megaco', at: 0 }), 'a raise is trapped');

      const back = await listenTcp(downPort);
      try {
        await m.check();
        assert.deepEqual(m.deviations(), []);
        const cleared = m.notices.filter((n) => n.event === 'cleared');
        assert.equal(cleared.length, 1);
        assert.equal(cleared[0]?.level, 'info');
        assert.equal(alarmOf({ ...cleared[0], path: '/x', at: 0 }), undefined, 'a clear is not an alarm');
      } finally {
        await back.close();
      }
    } finally {
      await up.close();
    }
  });
});

describe('names monitor', () => {
  it("finds a group's active missing (every member 503) and doubled (two members 200), and well with exactly one", async () => {
    const members = await Promise.all(
      [0, 1, 2].map(() => httpStub({ status: 503, body: '{"status":"passive"}' })),
    );
    const active = { status: 200, body: '{"status":"active"}' };
    const passive = { status: 503, body: '{"status":"passive"}' };
    const port = (i: number) => members[i]!.port;
    // Two groups of the file: group 1 (m1, m2) and group 2 (m3); their /active answer from the stubs.
    const topology = Topology.parse({
      cluster: 't',
      sites: [{ name: 's', master: true }],
      servers: [{ name: 'srv', site: 's', ifaces: { lo: '127.0.0.1' } }],
      roles: [
        {
          name: 'm1',
          roletype: 'mware',
          server: 'srv',
          iface: 'lo',
          group: 1,
          order: 1,
          api: { port: port(0) },
        },
        {
          name: 'm2',
          roletype: 'mware',
          server: 'srv',
          iface: 'lo',
          group: 1,
          order: 2,
          api: { port: port(1) },
        },
        {
          name: 'm3',
          roletype: 'mware',
          server: 'srv',
          iface: 'lo',
          group: 2,
          order: 1,
          api: { port: port(2) },
        },
      ],
    });
    const m = await startMonitor({ name: 'names', kind: 'names', confirm: 1, groups: 'all' }, { topology });
    try {
      members[0]!.answer = active;
      members[2]!.answer = active;
      await m.check();
      assert.deepEqual(m.deviations(), []);

      members[1]!.answer = active; // split brain in group 1
      members[2]!.answer = passive; // group 2 has lost its active
      await m.check();
      assert.deepEqual(kinds(m.deviations()), [
        'name-duplicate group-1-active is held 2 times: m1, m2',
        'name-missing group-2-active is held by none of m3',
      ]);

      await members[2]!.close(); // an unreachable member holds nothing either
      members[1]!.answer = passive;
      const s = await m.check();
      assert.deepEqual(kinds(m.deviations()), ['name-missing group-2-active is held by none of m3']);
      assert.equal(s.conditions.find((c) => c.key === 'name-duplicate:group-1-active')?.failing, false);
      assert.deepEqual(
        m.notices.map((n) => `${n.event} ${String(n.data?.key)}`),
        [
          'raised name-duplicate:group-1-active',
          'raised name-missing:group-2-active',
          'cleared name-duplicate:group-1-active',
        ],
      );
    } finally {
      await Promise.all(members.map((x) => x.close()));
    }
  });
});

describe('fsync monitor', () => {
  it('measures the lag from a file mtime and an HTTP JSON time, and cannot tell it from a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-fsync-'));
    const stamp = join(dir, 'stamp');
    writeFileSync(stamp, '');
    const status = await httpStub({ status: 200, body: '{}' });
    const m = await startMonitor({
      name: 'fsync',
      kind: 'fsync',
      confirm: 1,
      sources: [
        { name: 'media', status: { type: 'file-mtime', path: stamp }, max_lag_ms: 60_000 },
        {
          name: 'conf',
          status: { type: 'http-json', url: status.url('/sync'), json_path: 'last' },
          max_lag_ms: 60_000,
        },
        { name: 'gone', status: { type: 'file-mtime', path: join(dir, 'nope') }, max_lag_ms: 60_000 },
      ],
    });
    try {
      const now = m.clock.wallNow();
      utimesSync(stamp, new Date(now - 30_000), new Date(now - 30_000));
      status.answer = { status: 200, body: JSON.stringify({ last: Math.floor((now - 90_000) / 1000) }) };
      const s = await m.check();
      assert.deepEqual(s.detail.lag_ms, { media: 30_000, conf: 90_000, gone: null });
      assert.deepEqual(kinds(m.deviations()), [
        'fsync-lag FSYNC conf lags 90 s (at most 60 s)',
        `fsync-unknown FSYNC gone: last sync time unreadable: ENOENT: no such file or directory, stat '${join(dir, 'nope')}'`,
      ]);
      assert.ok(m.deviations().every((d) => d.severity === 'warning'));

      status.answer = { status: 200, body: JSON.stringify({ last: new Date(now - 1_000).toISOString() }) };
      await m.clock.advance(40_000); // media now lags 70 s
      await m.check();
      assert.deepEqual(
        kinds(m.deviations()).map((k) => k.split(' ').slice(0, 2).join(' ')),
        ['fsync-lag FSYNC', 'fsync-unknown FSYNC'],
      );
      assert.match(kinds(m.deviations())[0]!, /media lags 70 s/);
    } finally {
      await status.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------------------ sg

interface Reg {
  ruid: string;
  socket: string;
  contact: string;
  received?: string;
}

/** Registrations as Kamailio writes them: a TLS phone, WebRTC clients (ws/wss through tcp/tls listeners), UDP and TCP. */
const REGS: Reg[] = [
  { ruid: 'a-tls', socket: 'tls:127.0.0.1:5061', contact: 'sip:101@198.51.100.1:5061;transport=tls' },
  {
    ruid: 'a-wss',
    socket: 'tls:127.0.0.1:7443',
    contact: 'sip:df7jal23@df7jal23.invalid;transport=ws',
    received: 'sip:198.51.100.2:51324;transport=WSS',
  },
  { ruid: 'a-ws', socket: 'tcp:127.0.0.1:8080', contact: 'sip:k3l2@k3l2.invalid;transport=ws' },
  { ruid: 'a-tcp', socket: 'tcp:127.0.0.1:8080', contact: 'sip:103@198.51.100.3:5060;transport=tcp' },
  { ruid: 'a-udp', socket: 'udp:127.0.0.1:5060', contact: 'sip:104@198.51.100.4:5060' },
  { ruid: 'b-tls', socket: 'tls:127.0.0.2:5061', contact: 'sip:201@198.51.100.5:5061;transport=tls' },
];

async function loadRegistrations(): Promise<void> {
  await db.query('DELETE FROM location');
  for (const r of REGS)
    await db.query(
      `INSERT INTO location (ruid, username, domain, contact, received, socket, expires, user_agent)
       VALUES ($1, $2, 'rootdomain.ru', $3, $4, $5, now() + interval '1 hour', 'test')`,
      [r.ruid, r.ruid, r.contact, r.received ?? null, r.socket],
    );
}

async function remaining(): Promise<string[]> {
  return (await db.query<{ ruid: string }>('SELECT ruid FROM location ORDER BY ruid')).rows.map(
    (r) => r.ruid,
  );
}

function sgConfig(gwA: number, gwB: number, registrarPort = pgServer.port) {
  return {
    name: 'sg',
    kind: 'sg',
    confirm: 2,
    registrar: {
      host: '127.0.0.1',
      port: registrarPort,
      database: 'postgres',
      user: 'postgres',
      password: 'sg-db-secret',
    },
    gateways: [
      {
        name: 'sgA',
        sockets: ['tls:127.0.0.1:5061', 'tls:127.0.0.1:7443', 'tcp:127.0.0.1:8080', 'udp:127.0.0.1:5060'],
        probe: { type: 'tcp', host: '127.0.0.1', port: gwA },
      },
      { name: 'sgB', sockets: ['tls:127.0.0.2:5061'], probe: { type: 'tcp', host: '127.0.0.1', port: gwB } },
    ],
  };
}

describe('sg monitor (a real PostgreSQL location table)', () => {
  it("deletes a lost gateway's ws, wss and tls registrations once, after `confirm` rounds, and says how many", async () => {
    await loadRegistrations();
    const gwB = await listenTcp();
    const m = await startMonitor(sgConfig(await freePort(), gwB.port));
    try {
      await m.check();
      assert.equal((await remaining()).length, REGS.length, 'one failed probe deletes nothing');
      await m.check();
      assert.deepEqual(await remaining(), ['a-tcp', 'a-udp', 'b-tls']);
      const s = await m.check();
      assert.deepEqual(await remaining(), ['a-tcp', 'a-udp', 'b-tls']);
      assert.equal(s.detail.deleted_total, 3, 'once per loss');
      assert.deepEqual(
        (s.detail.purges as { gateway: string; deleted: number; epoch: number }[]).map((p) => [
          p.gateway,
          p.deleted,
          p.epoch,
        ]),
        [['sgA', 3, 7]],
      );
      const told = m.notices.filter((n) => n.event === 'registrations-deleted');
      assert.equal(told.length, 1);
      assert.equal(told[0]?.data?.deleted, 3);
      assert.equal(told[0]?.level, 'warn');
      assert.match(told[0]?.message ?? '', /SIP gateway sgA lost: 3 registrations \(ws, wss, tls\) deleted/);
      assert.deepEqual(
        kinds(m.deviations()).map((k) => k.split(':')[0]),
        ['sg-lost SIP gateway sgA is lost'],
      );
      assert.ok(
        !JSON.stringify([s, m.notices, m.deviations()]).includes('sg-db-secret'),
        'the password is never shown',
      );
    } finally {
      await gwB.close();
    }
  });

  it('deletes nothing while the node does not lead its group, and deletes once it does', async () => {
    await loadRegistrations();
    let leading = false;
    const m = await startMonitor(sgConfig(await freePort(), await freePort()), { leading: () => leading });
    await m.check();
    await m.check();
    assert.equal((await remaining()).length, REGS.length, 'fenced: not the active instance');
    assert.deepEqual(
      m.notices.filter((n) => n.event === 'registrations-deleted'),
      [],
    );
    leading = true;
    await m.check();
    assert.deepEqual(await remaining(), ['a-tcp', 'a-udp']);
    assert.deepEqual(
      m.notices
        .filter((n) => n.event === 'registrations-deleted')
        .map((n) => [n.data?.gateway, n.data?.deleted]),
      [
        ['sgA', 3],
        ['sgB', 1],
      ],
    );
  });

  it('reports a registrar it cannot reach as MW_ERR_SG_PURGE (told once, retried every round), never failing', async () => {
    const m = await startMonitor(sgConfig(await freePort(), await freePort(), await freePort()));
    await m.check();
    await m.check();
    await m.check();
    const problem = m.actor.problem?.();
    assert.equal(problem?.code, 'MW_ERR_SG_PURGE');
    assert.match(
      problem?.message ?? '',
      /SIP gateway sgB: its registrations could not be deleted from postgres@127\.0\.0\.1:\d+\/postgres/,
    );
    const failed = m.notices.filter((n) => n.event === 'registrations-delete-failed');
    assert.deepEqual(
      failed.map((n) => [n.data?.gateway, n.level]),
      [
        ['sgA', 'error'],
        ['sgB', 'error'],
      ],
    );
    assert.deepEqual((await m.check()).detail.pending, ['sgA', 'sgB']);
    assert.ok(!JSON.stringify([problem, m.notices]).includes('sg-db-secret'));
  });
});

// ------------------------------------------------------------------------------------------------ in a node

describe('monitors in a node', () => {
  it('run under /services/monitors: the node holds its own name once, and a lost gateway loses its registrations', async () => {
    await loadRegistrations();
    const dir = mkdtempSync(join(tmpdir(), 'mw-monitors-'));
    process.env.MW_TEST_SG_PASSWORD = 'sg-env-secret-123';
    const sg = sgConfig(await freePort(), await freePort());
    const n = await startInProcessNode(
      dir,
      await oneNodeTopology('montest', {
        monitors: [
          { name: 'names', kind: 'names', interval_ms: 100, confirm: 1, groups: 'all' },
          {
            ...sg,
            interval_ms: 100,
            confirm: 1,
            registrar: { ...sg.registrar, password: '${env:MW_TEST_SG_PASSWORD}' },
          },
        ],
      }),
    );
    try {
      await until(
        'the lost gateways lose their registrations',
        async () => (await remaining()).length === 2,
        {
          ms: 10_000,
        },
      );
      assert.deepEqual(await remaining(), ['a-tcp', 'a-udp']);
      const names = new ActorRef('/services/monitors/names', n.node.directory);
      const sgRef = new ActorRef('/services/monitors/sg', n.node.directory);
      const nameStatus = (await names.ask('status', null)) as MonitorStatus;
      assert.ok(nameStatus.rounds >= 1);
      assert.deepEqual(
        nameStatus.conditions.map((c) => [c.key, c.failing]),
        [
          ['name-missing:group-1-active', false],
          ['name-duplicate:group-1-active', false],
        ],
      );
      assert.deepEqual(await names.ask('deviations', null), []);
      const ds = (await sgRef.ask('deviations', null)) as Deviation[];
      assert.deepEqual(
        ds.map((d) => d.kind),
        ['sg-lost', 'sg-lost'],
      );
      const deleted = n.events.filter(
        (e) => e.type === 'notice' && e.topic === 'monitor' && e.event === 'registrations-deleted',
      );
      assert.deepEqual(
        deleted.map((e) => e.path),
        ['/services/monitors/sg', '/services/monitors/sg'],
      );
      assert.ok(!n.logLines.join('\n').includes('sg-env-secret-123'), 'the password is never logged');
    } finally {
      await n.node.stop();
      delete process.env.MW_TEST_SG_PASSWORD;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
