import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PG_BIN } from '../harness/binaries.ts';
import type { PgHostServer } from '../harness/pg-host.ts';
import { startPgHosts } from '../harness/pg-host.ts';
import { postgresUser } from '../harness/postgres.ts';
import { run } from '../harness/process.ts';
import { tempDir } from '../harness/temp.ts';
import type { PgNode } from '../support/pg-node.ts';
import { sql, startPgNode, until } from '../support/pg-node.ts';

/**
 * Start-up repair and bad settings, against two real PostgreSQL 15 hosts (each its own sshd). The pair is split
 * into two primaries before the controller starts; later one server loses its data folder. A second cluster on the
 * same hosts carries bad settings (a wrong SSH password, a missing pg_ctl), a third a lag limit no standby meets.
 */

const dir = tempDir('pg-repair');
let hosts: PgHostServer[];
let pn: PgNode;
const name = (h: PgHostServer) => `127.0.0.1:${h.pgPort}`;
const asPostgres = () => {
  const u = postgresUser();
  return { uid: u.uid, gid: u.gid, env: { ...process.env, LC_ALL: 'C' } };
};

before(async () => {
  hosts = await startPgHosts(2);
  const [db1, db2] = hosts as [PgHostServer, PgHostServer];
  await sql(db1, 'CREATE TABLE r (id int)');
  await until(
    'the table on the standby',
    async () => (await sql(db2, `SELECT to_regclass('r') AS t`))[0]?.t !== null,
  );
  // Two primaries: the standby is promoted behind the controller's back (timeline 2) and takes a write.
  await run('pg_ctl', join(PG_BIN, 'pg_ctl'), ['-D', db2.confDir, '-w', 'promote'], asPostgres());
  await sql(db2, 'INSERT INTO r VALUES (2)');
  const bad = hosts.map((h, i) => ({
    ...h.entry(),
    ...(i === 0 ? { ssh_pwd: 'not-the-password-8c1f' } : { pg_ctl_command: '/nonexistent/bin/pg_ctl' }),
  }));
  pn = await startPgNode(dir.path, [
    { key: 'general', servers: hosts.map((h) => h.entry()) },
    { key: 'bad', servers: bad },
  ]);
});

after(async () => {
  await pn?.node.stop();
  for (const h of hosts ?? []) await h.stop();
  dir.cleanup();
});

describe('the replication controller at start-up', () => {
  it('finds two primaries, keeps the one on the higher timeline and rebuilds the other as its standby, old data kept aside', async () => {
    const [db1, db2] = hosts as [PgHostServer, PgHostServer];
    const s = await until(
      'one primary and one standby',
      async () => {
        const st = await pn.status('general');
        return (
          st.history.at(-1)?.rejoin?.ok === true &&
          st.servers.every((x) => x.role !== 'down') &&
          st.phase === 'watching' &&
          st
        );
      },
      () => pn.status('general'),
    );
    assert.equal(s.primary, name(db2));
    assert.equal(s.history.at(-1)?.kind, 'startup-repair');
    assert.equal(s.history.at(-1)?.rejoin?.method, 'basebackup');
    assert.equal((await sql<{ rec: boolean }>(db1, 'SELECT pg_is_in_recovery() AS rec'))[0]?.rec, true);
    // It now follows db2: the row written on db2 alone is there.
    await until(
      'the row from db2 on db1',
      async () => (await sql(db1, 'SELECT 1 FROM r WHERE id = 2')).length === 1,
    );
    assert.equal(
      readdirSync(db1.backupDir).length,
      1,
      'the replaced data folder is kept in pg_backup_folder',
    );
    assert.match(
      readFileSync(join(pn.dataDir, 'pgctrl_general.log'), 'utf8'),
      /two-primaries: .* keeping 127\.0\.0\.1/,
    );
  });

  it('builds a standby from a base backup for a server whose data folder is gone', async () => {
    const db1 = hosts[0] as PgHostServer;
    // The data folder vanishes under the running server, which then stops (a fast shutdown, so that it removes its
    // socket lock file whether or not this sandbox reaps it at once): the controller finds no cluster to rejoin.
    const pid = db1.postmasterPid() as number;
    renameSync(db1.dataDir, `${db1.dataDir}.gone`);
    process.kill(pid, 'SIGINT');
    await until('db1 down', async () =>
      sql(db1, 'SELECT 1').then(
        () => false,
        () => true,
      ),
    );
    await until(
      'db1 streaming again',
      async () => (await sql<{ rec: boolean }>(db1, 'SELECT pg_is_in_recovery() AS rec'))[0]?.rec === true,
      () => pn.status('general'),
    );
    // The decision is reported once pg_ctl start returns, which may be a moment after the server streams.
    await until('the standby-built decision', async () =>
      pn.events.some((e) => e.type === 'notice' && e.event === 'standby-built'),
    );
  });
});

describe('the replication controller with bad settings', () => {
  it('reports a wrong SSH password and a missing pg_ctl in plain words, and keeps running', async () => {
    const s = await until(
      'both problems visible',
      async () => {
        const st = await pn.status('bad');
        const [a, b] = st.servers;
        return (
          a?.reachable.ssh === false && b?.problems.some((p) => p.includes('/nonexistent/bin/pg_ctl')) && st
        );
      },
      () => pn.status('bad'),
    );
    assert.match(s.servers[0]?.error ?? '', /ssh: authentication failed/);
    assert.ok(
      s.servers[1]?.problems.includes(
        'pg_ctl_command /nonexistent/bin/pg_ctl is not an executable on the host',
      ),
    );
    const tree = JSON.stringify(pn.node.tree());
    assert.match(tree, /"\/pg\/bad\/controller"/);
  });

  it('never writes a secret to the log, the decision logs, the events or the status', async () => {
    const secrets = [...hosts.map((h) => h.ssh.password), 'not-the-password-8c1f'];
    const text = [
      pn.logLines.join('\n'),
      readFileSync(join(pn.dataDir, 'pgctrl_general.log'), 'utf8'),
      JSON.stringify(await pn.status('general')),
      JSON.stringify(await pn.status('bad')),
      JSON.stringify(pn.events),
    ].join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), 'a password leaked');
  });
});
