import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SyslogSnmpArgs } from '../../../actors/syslog-snmp/syslog-snmp-actor.ts';
import { syslogSnmpActor } from '../../../actors/syslog-snmp/syslog-snmp-actor.ts';
import { defaultEngineId, TRAP, VARBIND } from '../../../actors/syslog-snmp/oids.ts';
import type { SyslogSnmpProtocol, SyslogSnmpStatus } from '../../../actors/syslog-snmp/protocol.ts';
import type { Behavior } from '../../../src/actor-system/kind.ts';
import { ManualClock } from '../../../src/supervision/clock.ts';
import { EventStream } from '../../../src/supervision/events.ts';
import { SyslogSnmp } from '../../../topology/schema.ts';
import type { ReceivedTrap, SnmpTrapd } from '../../harness/index.ts';
import { freePort, startSnmpTrapd } from '../../harness/index.ts';
import { until } from '../../harness/poll.ts';
import { oneNodeTopology, startInProcessNode } from '../../support/in-process-node.ts';
import { ActorRef } from '../../../src/actor-system/actor-ref.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testActorContext } from '../../support/actor-context.ts';

/** Starts: one real snmptrapd (v2c community and a v3 authPriv user) shared by the tests. */

const V3 = { user: 'mwtrap', authKey: 'auth-pass-123', privKey: 'priv-pass-456' };
let trapd: SnmpTrapd;

before(async () => {
  trapd = await startSnmpTrapd({ community: 'public', v3: { engineId: defaultEngineId('mware1'), ...V3 } });
});
after(() => trapd?.stop());

interface Service {
  actor: Behavior<SyslogSnmpProtocol>;
  clock: ManualClock;
  events: EventStream;
  udp: number;
  tcp: number;
  status(): SyslogSnmpStatus;
}

const running: Behavior<SyslogSnmpProtocol>[] = [];
after(async () => {
  for (const a of running) await a.stop?.();
});

async function startService(rate = { per_second: 1, burst: 100 }): Promise<Service> {
  const [udp, tcp] = [await freePort(), await freePort()];
  const config = SyslogSnmp.parse({
    listen: { udp_port: udp, tcp_port: tcp },
    rules: [
      { name: 'sshd-failed', program: 'sshd', regex: 'Failed password' },
      { name: 'errors', severity_max: 'err', trap_oid: '1.3.6.1.4.1.32473.1.0.9' },
    ],
    managers: [
      { host: '127.0.0.1', port: trapd.port, version: 'v2c', community: 'public' },
      {
        host: '127.0.0.1',
        port: trapd.port,
        version: 'v3',
        user: V3.user,
        auth_key: V3.authKey,
        priv_key: V3.privKey,
      },
    ],
    rate_limit: rate,
  });
  const clock = new ManualClock();
  const events = new EventStream();
  const args: SyslogSnmpArgs = { config, address: '127.0.0.1', engineName: 'mware1', events };
  const actor = await syslogSnmpActor.create(
    args,
    testActorContext('/services/syslog-snmp', { clock }).context,
  );
  running.push(actor);
  return {
    actor,
    clock,
    events,
    udp,
    tcp,
    status: () => actor.handlers.status.call(actor, null) as SyslogSnmpStatus,
  };
}

function sendUdp(port: number, ...messages: (string | Buffer)[]): Promise<void> {
  const sock = createSocket('udp4');
  return new Promise((resolve) => {
    let left = messages.length;
    for (const m of messages)
      sock.send(m, port, '127.0.0.1', () => {
        if (--left === 0) sock.close(() => resolve());
      });
  });
}

/** Writes `bytes` on a new TCP connection and resolves when the server has closed it or we have. */
function sendTcp(port: number, bytes: string | Buffer, keepOpen = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.write(bytes, () => (keepOpen ? undefined : c.end())));
    c.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
    c.on('close', () => resolve());
    c.resume();
  });
}

/** The next `n` traps after the first `from` already logged. */
async function nextTraps(from: number, n: number): Promise<ReceivedTrap[]> {
  return (await trapd.waitForTraps(from + n)).slice(from);
}

function assertSyslogTrap(t: ReceivedTrap, want: Record<string, string | number>, oid: string = TRAP.syslog) {
  assert.equal(t.trapOid, oid);
  for (const [k, v] of Object.entries(want))
    assert.equal(t.varbinds.get(VARBIND[k as keyof typeof VARBIND]), v, `${k} in ${t.security}`);
}

describe('syslog → SNMP traps, against a real snmptrapd', () => {
  it('traps an RFC 3164 message received over UDP to a v2c and a v3 authPriv manager, with its fields as varbinds', async () => {
    const s = await startService();
    const from = trapd.traps().length;
    await sendUdp(s.udp, '<34>Jan  5 10:00:00 web1 sshd[812]: Failed password for root from 127.0.0.9');
    const traps = await nextTraps(from, 2);
    assert.deepEqual(traps.map((t) => /SNMP (v2c|v3)/.exec(t.security)?.[1]).sort(), ['v2c', 'v3']);
    assert.match(traps.find((t) => t.security.includes('v3'))!.security, /user mwtrap/);
    for (const t of traps)
      assertSyslogTrap(t, {
        syslogHost: 'web1',
        syslogProgram: 'sshd',
        syslogSeverity: 2,
        syslogFacility: 4,
        syslogMessage: 'Failed password for root from 127.0.0.9',
        syslogRule: 'sshd-failed',
      });
    const st = s.status();
    assert.equal(st.received, 1);
    assert.equal(st.matched, 1);
    assert.equal(st.sent, 2);
    assert.deepEqual(
      st.managers.map((m) => m.errors),
      [0, 0],
    );
  });

  it('traps RFC 5424 over UDP and over TCP with octet counting, and RFC 3164 over TCP with newline framing; an unmatched message is only counted', async () => {
    const s = await startService();
    const from = trapd.traps().length;
    const m5424 = (text: string) =>
      `<27>1 2026-01-05T10:00:00.000Z db1 postgres 77 ID1 [origin ip="127.0.0.5" x="a\\]b"] ${text}`;
    await sendUdp(s.udp, m5424('udp five'));
    await nextTraps(from, 2);
    const framed = Buffer.from(m5424('tcp octet ☃'));
    await sendTcp(s.tcp, Buffer.concat([Buffer.from(`${framed.length} `), framed]));
    await nextTraps(from + 2, 2);
    await sendTcp(
      s.tcp,
      '<14>Jan  5 10:00:01 app1 cron: harmless\n<11>Jan  5 10:00:02 app1 billing: tcp line\n',
    );
    const traps = (await nextTraps(from, 6)).map((t) => [t.trapOid, t.varbinds.get(VARBIND.syslogMessage)]);
    const oid9 = '1.3.6.1.4.1.32473.1.0.9';
    assert.deepEqual(traps, [
      ...Array.from({ length: 2 }, () => [oid9, 'udp five']),
      ...Array.from({ length: 2 }, () => [oid9, 'tcp octet ☃']),
      ...Array.from({ length: 2 }, () => [oid9, 'tcp line']),
    ]);
    assertSyslogTrap(
      (await nextTraps(from, 6))[0]!,
      {
        syslogHost: 'db1',
        syslogProgram: 'postgres',
        syslogSeverity: 3,
        syslogFacility: 3,
        syslogRule: 'errors',
      },
      oid9,
    );
    await until('the TCP messages counted', async () => s.status().received === 4);
    assert.equal(s.status().matched, 3);
  });

  it('lets a burst of N traps through a flood and drops and counts the rest until the bucket refills', async () => {
    const s = await startService({ per_second: 1, burst: 5 });
    const from = trapd.traps().length;
    const flood = Array.from({ length: 20 }, (_, i) => `<11>app1 flood: message ${i}`);
    await sendUdp(s.udp, ...flood);
    await until('the flood received', async () => s.status().received === 20);
    // One second on the actor's clock is one more token: the next message passes, and marks the end in the log.
    await s.clock.advance(1_000);
    await sendUdp(s.udp, '<11>app1 flood: after the refill');
    await until('the last message received', async () => s.status().received === 21);
    const traps = await nextTraps(from, 12);
    const texts = traps.map((t) => t.varbinds.get(VARBIND.syslogMessage));
    assert.deepEqual(texts, [
      ...[0, 1, 2, 3, 4].flatMap((i) => [`message ${i}`, `message ${i}`]),
      'after the refill',
      'after the refill',
    ]);
    const st = s.status();
    assert.equal(st.matched, 21);
    assert.equal(st.dropped_rate_limit, 15);
    assert.equal(st.sent, 12);
    assert.equal(trapd.traps().length, from + 12);
  });

  it('counts garbage datagrams and broken TCP streams without failing, and keeps trapping afterwards', async () => {
    const s = await startService();
    const from = trapd.traps().length;
    await sendUdp(
      s.udp,
      Buffer.from([0xff, 0x00, 0x13, 0x37]),
      '<999>too high',
      '',
      'no pri at all',
      '<01>leading zero',
    );
    await sendTcp(s.tcp, '99999999999 x');
    await sendTcp(s.tcp, Buffer.alloc(70_000, 0x41), true);
    await sendTcp(s.tcp, '12 short');
    // The last one is cut short by its sender's close: counted too, not silently dropped.
    await until('the garbage counted', async () => s.status().garbage === 8, {
      detail: () => JSON.stringify(s.status()),
    });
    await sendUdp(s.udp, '<11>app1 still: alive');
    const traps = await nextTraps(from, 2);
    assert.equal(traps[0]!.varbinds.get(VARBIND.syslogMessage), 'alive');
    assert.equal(s.status().received, 1);
  });

  it("traps mware's own alarm (a warn/error notice of pg, backup, freeswitch or cluster) and nothing else from the event stream", async () => {
    const s = await startService();
    const from = trapd.traps().length;
    const at = Date.now();
    s.events.emit({
      type: 'notice',
      topic: 'backup',
      event: 'run-started',
      level: 'info',
      message: 'x',
      path: '/backup',
      at,
    });
    s.events.emit({
      type: 'notice',
      topic: 'mutex',
      event: 'odd',
      level: 'error',
      message: 'x',
      path: '/m',
      at,
    });
    s.events.emit({
      type: 'notice',
      topic: 'backup',
      event: 'run-failed',
      level: 'error',
      message: 'backup run failed: storage unreachable',
      path: '/backup',
      at,
    });
    // A group that lost its active is an alarm; a planned hand-over is not (src/node/node.ts noticeTakeover).
    for (const [event, level] of [
      ['handed-over', 'info'],
      ['active-lost', 'warn'],
    ] as const)
      s.events.emit({
        type: 'notice',
        topic: 'cluster',
        event,
        level,
        message: `group 7: ${event}`,
        path: '/cluster',
        at,
      });
    const traps = await nextTraps(from, 4);
    const byTopic = (topic: string) => traps.filter((t) => t.varbinds.get(VARBIND.alarmTopic) === topic);
    assert.deepEqual(
      [byTopic('backup').length, byTopic('cluster').length],
      [2, 2],
      'one of each to each manager',
    );
    for (const t of byTopic('backup')) {
      assert.equal(t.trapOid, TRAP.alarm);
      assert.equal(t.varbinds.get(VARBIND.alarmEvent), 'run-failed');
      assert.equal(t.varbinds.get(VARBIND.alarmLevel), 'error');
      assert.equal(t.varbinds.get(VARBIND.alarmMessage), 'backup run failed: storage unreachable');
      assert.equal(t.varbinds.get(VARBIND.alarmSource), '/backup');
    }
    for (const t of byTopic('cluster')) {
      assert.equal(t.trapOid, TRAP.alarm);
      assert.equal(t.varbinds.get(VARBIND.alarmEvent), 'active-lost');
      assert.equal(t.varbinds.get(VARBIND.alarmLevel), 'warn');
    }
    assert.equal(s.status().alarms, 2);
  });
});

describe('syslog → SNMP traps in a node (topology → /services/syslog-snmp), against a real snmptrapd', () => {
  it('listens where the topology says, traps a matched message and the node’s own alarm, and answers status', async () => {
    const udp = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mware-syslog-'));
    const n = await startInProcessNode(
      dir,
      await oneNodeTopology('syslogtest', {
        syslog_snmp: {
          listen: { udp_port: udp },
          rules: [{ name: 'kernel', program: 'kernel' }],
          managers: [{ host: '127.0.0.1', port: trapd.port, version: 'v2c', community: 'public' }],
        },
      }),
    );
    try {
      const from = trapd.traps().length;
      await sendUdp(udp, '<0>Jan  5 10:00:00 db2 kernel: Out of memory: Killed process 4242');
      const [t] = await nextTraps(from, 1);
      assertSyslogTrap(t!, {
        syslogHost: 'db2',
        syslogProgram: 'kernel',
        syslogSeverity: 0,
        syslogRule: 'kernel',
      });
      n.node.events.emit({
        type: 'notice',
        topic: 'pg',
        event: 'failover',
        level: 'warn',
        message: 'cluster general: 127.0.0.32:5432 promoted',
        path: '/pg/general/controller',
        at: Date.now(),
      });
      const [alarm] = await nextTraps(from + 1, 1);
      assert.equal(alarm?.trapOid, TRAP.alarm);
      const status = (await new ActorRef('/services/syslog-snmp', n.node.directory).ask(
        'status',
        null,
      )) as SyslogSnmpStatus;
      assert.equal(status.matched, 1);
      assert.equal(status.alarms, 1);
    } finally {
      await n.node.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
