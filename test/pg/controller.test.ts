import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrimaryFollower } from '../../src/pg/follow.ts';
import type { PgHostServer } from '../harness/pg-host.ts';
import { startPgHosts } from '../harness/pg-host.ts';
import { freePort } from '../harness/ports.ts';
import { tempDir } from '../harness/temp.ts';
import type { PgNode } from '../support/pg-node.ts';
import { sql, startPgNode, until as waitFor } from '../support/pg-node.ts';

/**
 * The replication controller against real servers: two PostgreSQL 15 hosts (each its own sshd, pg_ctl-managed, on
 * loopback) and a referee (a TCP listener on loopback that the test closes to cut the controller off). One mware
 * node on the embedded default runs `/pg/general`. The scenarios run in order on the same pair, each leaving a
 * primary and a streaming standby behind.
 */

const dir = tempDir('pg-controller');
let hosts: PgHostServer[];
let pn: PgNode;
let referee: Server | undefined;
let refereePort: number;

const byName = (name: string | null) => hosts.find((h) => `127.0.0.1:${h.pgPort}` === name) as PgHostServer;
const status = () => pn.status('general');
const until = <T>(what: string, fn: () => Promise<T | undefined | false>) => waitFor(what, fn, status);

/** A healthy pair: a primary and the other server streaming from it. */
const healthy = () =>
  until('a primary and a streaming standby', async () => {
    const s = await status();
    const roles = s.servers.map((x) => x.role).sort();
    return s.phase === 'watching' && s.primary !== null && roles.join() === 'primary,standby' && s;
  });

function openReferee(): Promise<void> {
  return new Promise((resolve) => {
    referee = createServer((sock) => sock.destroy()).listen(refereePort, '127.0.0.1', () => resolve());
  });
}

before(async () => {
  hosts = await startPgHosts(2);
  refereePort = await freePort();
  await openReferee();
  await sql(hosts[0] as PgHostServer, 'CREATE TABLE t (id int PRIMARY KEY, note text)');
  pn = await startPgNode(dir.path, [
    {
      key: 'general',
      referee: `127.0.0.1:${refereePort}`,
      confirm_ms: 1_500,
      servers: hosts.map((h) => h.entry()),
    },
  ]);
});

after(async () => {
  await pn?.node.stop();
  referee?.close();
  for (const h of hosts ?? []) await h.stop();
  dir.cleanup();
});

describe('the PostgreSQL replication controller', () => {
  it('adopts the running primary, reports its standby with its lag, and logs the decision', async () => {
    const s = await healthy();
    assert.equal(s.primary, `127.0.0.1:${hosts[0]?.pgPort}`);
    const standby = s.servers.find((x) => x.role === 'standby');
    assert.equal(standby?.reachable.ssh, true);
    assert.equal(typeof standby?.lag_bytes, 'number');
    assert.deepEqual(standby?.problems, []);
    // The controller's log is appended asynchronously: the line may land a moment after the status shows it.
    const decision = /epoch=1 primary-adopted: 127\.0\.0\.1:\d+ is the primary/;
    const logged = () => {
      try {
        return readFileSync(join(pn.dataDir, 'pgctrl_general.log'), 'utf8');
      } catch {
        return '';
      }
    };
    await until('the decision in pgctrl_general.log', async () => decision.test(logged()));
    assert.match(logged(), decision);
  });

  it('promotes the standby at once when the primary’s postmaster is killed on a live host, and rejoins the old one by pg_rewind', async () => {
    const before = await healthy();
    const primary = byName(before.primary);
    const standby = hosts.find((h) => h !== primary) as PgHostServer;
    await sql(primary, `INSERT INTO t SELECT g, 'before' FROM generate_series(1, 100) g`);
    const [{ lsn }] = (await sql<{ lsn: string }>(primary, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [
      { lsn: string },
    ];
    await until(
      'replayed on the standby',
      async () =>
        (await sql<{ ok: boolean }>(standby, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok`, [lsn]))[0]
          ?.ok,
    );
    await primary.killPostmaster();
    await until('a write on the promoted standby', async () => {
      await sql(standby, `INSERT INTO t VALUES (1000, 'after')`);
      return true;
    });
    const rows = await sql<{ n: string }>(standby, `SELECT count(*) AS n FROM t WHERE note = 'before'`);
    assert.equal(rows[0]?.n, '100');
    const s = await healthy();
    assert.equal(s.primary, `127.0.0.1:${standby.pgPort}`);
    const last = s.history.at(-1);
    assert.equal(last?.kind, 'postmaster-dead');
    assert.equal(last?.epoch, 1);
    assert.equal(last?.rejoin?.method, 'rewind', JSON.stringify(last));
    // The old primary now streams from the new one, and holds the row written after the failover.
    await until(
      'the row on the rejoined server',
      async () => (await sql(primary, 'SELECT 1 FROM t WHERE id = 1000')).length === 1,
    );
  });

  it('promotes after the confirmation window when the host is lost (database and SSH), then fences the old primary started again', async () => {
    const before = await healthy();
    const primary = byName(before.primary);
    const standby = hosts.find((h) => h !== primary) as PgHostServer;
    await primary.lose();
    const after = await until('the other server promoted', async () => {
      const s = await status();
      return s.primary === `127.0.0.1:${standby.pgPort}` && s;
    });
    assert.equal(after.history.at(-1)?.kind, 'host-lost');
    // The host comes back and its postgres starts as it was: a primary. It must not stay one.
    await primary.comeBack();
    await primary.start();
    const s = await healthy();
    assert.equal(s.primary, `127.0.0.1:${standby.pgPort}`);
    assert.ok(
      pn.events.some((e) => e.type === 'notice' && e.event === 'fence'),
      'fenced',
    );
    const rejoined = s.history.at(-1)?.rejoin;
    assert.ok(
      rejoined?.ok && ['rewind', 'basebackup', 'none'].includes(rejoined.method),
      JSON.stringify(rejoined),
    );
  });

  it('promotes nothing while the referee is out of reach, says why, and fails over once it is back', async () => {
    const before = await healthy();
    const primary = byName(before.primary);
    await new Promise((r) => referee?.close(r));
    await primary.lose();
    const isolated = await until('isolated', async () => {
      const s = await status();
      return s.phase === 'isolated' && s;
    });
    assert.match(isolated.reason ?? '', /referee is out of reach/);
    assert.equal(isolated.primary, before.primary);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal((await status()).primary, before.primary, 'nothing promoted while isolated');
    await openReferee();
    await until('promoted once the referee answers', async () => (await status()).primary !== before.primary);
    await primary.comeBack();
    await primary.start();
    await healthy();
  });

  it('switches over with a writer running: no committed write lost, the writer follows the new primary', async () => {
    const before = await healthy();
    const target = hosts.find((h) => `127.0.0.1:${h.pgPort}` !== before.primary) as PgHostServer;
    const follower = new PrimaryFollower(
      async () => {
        const s = await status();
        const h = byName(s.primary);
        return h ? { host: '127.0.0.1', port: h.pgPort, database: 'postgres', user: 'postgres' } : null;
      },
      { retryMs: 30_000 },
    );
    const acknowledged: number[] = [];
    let stop = false;
    const writer = (async () => {
      for (let id = 10_000; !stop; id++) {
        try {
          await follower.query(`INSERT INTO t VALUES ($1, 'switchover')`, [id]);
          acknowledged.push(id);
        } catch {
          // unacknowledged: not counted
        }
      }
    })();
    await until('writes flowing', async () => acknowledged.length > 20);
    const reply = (await pn.ask(
      'general',
      'switchover',
      { server: `127.0.0.1:${target.pgPort}` },
      120_000,
    )) as {
      to: string;
    };
    assert.equal(reply.to, `127.0.0.1:${target.pgPort}`);
    const n = acknowledged.length;
    await until('writes on the new primary', async () => acknowledged.length > n + 20);
    stop = true;
    await writer;
    follower.close();
    assert.equal(follower.target?.port, target.pgPort);
    const rows = await sql<{ id: number }>(target, `SELECT id FROM t WHERE note = 'switchover'`);
    const present = new Set(rows.map((r) => r.id));
    const lost = acknowledged.filter((id) => !present.has(id));
    assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
    const s = await healthy();
    assert.equal(s.history.at(-1)?.kind, 'switchover');
  });

  it('never writes a secret to its log, its decision log or its status', async () => {
    const secrets = hosts.map((h) => h.ssh.password);
    const text = [
      pn.logLines.join('\n'),
      readFileSync(join(pn.dataDir, 'pgctrl_general.log'), 'utf8'),
      JSON.stringify(await status()),
      JSON.stringify(pn.events),
    ].join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), 'a password leaked');
  });
});
