import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { RecoveryTable } from '../../src/freeswitch/recovery-table.ts';
import type { PgServer } from '../harness/postgres.ts';
import { startPostgres } from '../harness/postgres.ts';

/**
 * The recovery table's fencing against a real PostgreSQL 15: hosts connect as a plain role with their switchname
 * as application_name and run FreeSWITCH's own recovery SQL; mware (the superuser here) installs row-level security
 * and hands rows out. What FreeSWITCH's `fsctl recover` would select and delete is exactly what each host sees.
 */

describe('recovery table fencing (row-level security)', () => {
  let server: PgServer;
  let admin: pg.Client;
  let table: RecoveryTable;
  const hosts = new Map<string, pg.Client>();

  const asHost = async (switchname: string): Promise<pg.Client> => {
    let c = hosts.get(switchname);
    if (!c) {
      c = new pg.Client({
        host: server.host,
        port: server.port,
        user: 'fs',
        database: 'postgres',
        application_name: switchname,
      });
      await c.connect();
      hosts.set(switchname, c);
    }
    return c;
  };
  // FreeSWITCH's statements (switch_core_sqldb.c): insert on answer, select and delete on recover.
  const insert = async (host: string, runtime: string, uuid: string, profile = 'internal'): Promise<void> => {
    await (
      await asHost(host)
    ).query(
      'INSERT INTO recovery (runtime_uuid, technology, profile_name, hostname, uuid, metadata) VALUES ($1, $2, $3, $4, $5, $6)',
      [runtime, 'sofia', profile, host, uuid, `<cdr><variables><uuid>${uuid}</uuid></variables></cdr>`],
    );
  };
  const recoverSelect = async (host: string, runtime: string): Promise<string[]> =>
    (
      await (
        await asHost(host)
      ).query<{ uuid: string }>('SELECT uuid FROM recovery WHERE runtime_uuid != $1 ORDER BY uuid', [runtime])
    ).rows.map((r) => r.uuid);
  const recoverDelete = async (host: string, runtime: string): Promise<number> =>
    (await (await asHost(host)).query('DELETE FROM recovery WHERE runtime_uuid != $1', [runtime])).rowCount ??
    0;

  before(async () => {
    server = await startPostgres({ name: 'pg-recovery-table' });
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE ROLE fs LOGIN');
    table = new RecoveryTable(admin);
    await table.install();
  });
  after(async () => {
    for (const c of hosts.values()) await c.end();
    await admin?.end();
    await server?.stop();
  });

  it('takes over a table FreeSWITCH created (its owner would bypass the policies), idempotently', async () => {
    await admin.query('DROP TABLE recovery');
    await admin.query('GRANT CREATE ON SCHEMA public TO fs');
    await (
      await asHost('fs01')
    ).query(
      'CREATE TABLE recovery (runtime_uuid VARCHAR(255), technology VARCHAR(255), profile_name VARCHAR(255), hostname VARCHAR(255), uuid VARCHAR(255), metadata text)',
    );
    await table.install();
    const owner = await admin.query<{ o: string }>(
      "SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'recovery'",
    );
    assert.equal(owner.rows[0]?.o, 'postgres');
  });

  it('installs idempotently', async () => {
    await table.install();
    const r = await admin.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_policies WHERE tablename = 'recovery'",
    );
    assert.equal(r.rows[0]?.n, '4');
  });

  it('a host recovering sees only what was assigned to it — never another live host’s rows', async () => {
    await insert('fs01', 'core-1', 'a1');
    await insert('fs01', 'core-1', 'a2');
    await insert('fs02', 'core-2', 'b1');
    await insert('fs03', 'core-3', 'c1');
    // Without an assignment fs02's recover would take nothing (without fencing: a1, a2 and c1, all live).
    assert.deepEqual(await recoverSelect('fs02', 'core-2'), []);
    const n = await table.assign({ target: 'fs02', source: 'fs01', migration: 'm1', epoch: 1 }, [
      {
        uuid: 'a1',
        metadata:
          '<cdr><variables><uuid>a1</uuid><local_media_ip>127.0.0.22</local_media_ip></variables></cdr>',
      },
    ]);
    assert.equal(n, 1);
    assert.deepEqual(await recoverSelect('fs02', 'core-2'), ['a1']);
    assert.deepEqual(await recoverSelect('fs03', 'core-3'), []);
    // The rewritten metadata is what the target reads.
    const meta = await (
      await asHost('fs02')
    ).query<{ metadata: string }>("SELECT metadata FROM recovery WHERE uuid = 'a1'");
    assert.match(meta.rows[0]?.metadata ?? '', /127\.0\.0\.22/);
    // Its clean-up deletes only what it saw: fs01's other row, fs03's row and its own stay.
    await insert('fs02', 'core-2', 'a1');
    assert.equal(await recoverDelete('fs02', 'core-2'), 1);
    const left = await admin.query<{ uuid: string; hostname: string }>(
      'SELECT uuid, hostname FROM recovery ORDER BY uuid, hostname',
    );
    assert.deepEqual(
      left.rows.map((r) => `${r.uuid}@${r.hostname}`),
      ['a1@fs02', 'a2@fs01', 'b1@fs02', 'c1@fs03'],
    );
  });

  it('a living source’s late delete by uuid cannot reach the row its call’s target wrote', async () => {
    await insert('fs03', 'core-3', 'x1');
    await table.assign({ target: 'fs02', source: 'fs03', migration: 'm2', epoch: 1 }, [
      { uuid: 'x1', metadata: '<cdr/>' },
    ]);
    await insert('fs02', 'core-2', 'x1');
    // FreeSWITCH's hangup delete (`delete from recovery where uuid=…`) from the source.
    await (await asHost('fs03')).query("DELETE FROM recovery WHERE uuid = 'x1'");
    const r = await admin.query<{ hostname: string }>("SELECT hostname FROM recovery WHERE uuid = 'x1'");
    assert.deepEqual(
      r.rows.map((x) => x.hostname),
      ['fs02'],
    );
  });

  it('refuses a hand-over from an epoch older than the last one (a deposed active)', async () => {
    await insert('fs04', 'core-4', 'e1');
    await table.assign({ target: 'fs02', source: 'fs04', migration: 'm3', epoch: 7 }, [
      { uuid: 'e1', metadata: '<cdr/>' },
    ]);
    await assert.rejects(
      table.assign({ target: 'fs03', source: 'fs04', migration: 'm4', epoch: 6 }, [
        { uuid: 'e1', metadata: '<cdr/>' },
      ]),
      (err) => (err as { code: string }).code === 'MW_ERR_FS_FENCED',
    );
    // Nothing of the refused hand-over happened: e1 still belongs to fs02's recovery only.
    assert.deepEqual(await recoverSelect('fs03', 'core-3'), []);
    assert.deepEqual(await recoverSelect('fs02', 'core-2'), ['e1']);
  });

  it('removes only the source’s stale rows by uuid and runtime_uuid, and releases assignments', async () => {
    await insert('fs05', 'core-5', 's1');
    await insert('fs02', 'core-2', 's1');
    assert.equal(await table.removeStale(['s1'], 'core-5'), 1);
    const r = await admin.query<{ hostname: string }>("SELECT hostname FROM recovery WHERE uuid = 's1'");
    assert.deepEqual(
      r.rows.map((x) => x.hostname),
      ['fs02'],
    );
    await table.release('m3');
    assert.deepEqual(await recoverSelect('fs02', 'core-2'), []);
  });

  it('lists the RTP ports a host’s legs hold: its rows and those handed to it, less the ones being handed now', async () => {
    const row = async (host: string, uuid: string, port: number | null): Promise<void> => {
      const media =
        port === null
          ? ''
          : `<local_media_ip>127.0.0.27</local_media_ip><local_media_port>${port}</local_media_port>`;
      await admin.query(
        "INSERT INTO recovery (runtime_uuid, technology, profile_name, hostname, uuid, metadata) VALUES ('core-x', 'sofia', 'internal', $1, $2, $3)",
        [host, uuid, `<cdr><variables><uuid>${uuid}</uuid>${media}</variables></cdr>`],
      );
    };
    await row('fs07', 'p1', 20_000);
    await row('fs07', 'p2', null); // a leg without media: no port
    await row('fs08', 'p3', 20_002);
    await row('fs08', 'p4', 20_004);
    await row('fs09', 'p5', 20_006);
    await table.assign({ target: 'fs07', source: 'fs08', migration: 'm5', epoch: 7 }, [
      {
        uuid: 'p3',
        metadata: '<cdr><variables><local_media_port>24000</local_media_port></variables></cdr>',
      },
      {
        uuid: 'p4',
        metadata: '<cdr><variables><local_media_port>24002</local_media_port></variables></cdr>',
      },
    ]);
    assert.deepEqual((await table.mediaPortsOf('fs07')).sort(), [20_000, 24_000, 24_002]);
    assert.deepEqual((await table.mediaPortsOf('fs07', ['p4'])).sort(), [20_000, 24_000]);
    // Another host's rows are not the target's; the source's rows stay its own until recovered (it is no target).
    assert.deepEqual((await table.mediaPortsOf('fs08')).sort(), [24_000, 24_002]);
    assert.deepEqual(await table.mediaPortsOf('fs09'), [20_006]);
    await table.release('m5');
  });

  it('reports a host connected without its application_name, or as a role that bypasses the policies', async () => {
    const problems = await table.problems(['fs01', 'fs02', 'fs09']);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /no connection from "fs09": its core-db-dsn must carry application_name=fs09/,
    );
    const su = new pg.Client({ connectionString: server.url, application_name: 'fs09' });
    await su.connect();
    try {
      const p = await table.problems(['fs09']);
      assert.match(p.join('\n'), /"fs09" connects as postgres, which bypasses row-level security/);
    } finally {
      await su.end();
    }
  });
});
