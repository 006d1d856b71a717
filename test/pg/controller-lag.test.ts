import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PgHostServer } from '../harness/pg-host.ts';
import { startPgHosts } from '../harness/pg-host.ts';
import { tempDir } from '../harness/temp.ts';
import type { PgNode } from '../support/pg-node.ts';
import { sql, startPgNode, until } from '../support/pg-node.ts';

/**
 * A standby too far behind to be promoted, against two real PostgreSQL 15 hosts (each its own sshd): the standby's
 * replay is paused, the primary writes on, then its postmaster is killed. With `max_lag_on_failover` of 1 KiB the
 * controller must promote nothing, and say why in its status and its decision log.
 */

const dir = tempDir('pg-lag');
let hosts: PgHostServer[];
let pn: PgNode;
const status = () => pn.status('lag');

before(async () => {
  hosts = await startPgHosts(2);
  await sql(hosts[0] as PgHostServer, 'CREATE TABLE big (id int, pad text)');
  pn = await startPgNode(dir.path, [
    { key: 'lag', max_lag_on_failover: 1024, servers: hosts.map((h) => h.entry()) },
  ]);
});

after(async () => {
  await pn?.node.stop();
  for (const h of hosts ?? []) await h.stop();
  dir.cleanup();
});

describe('the replication controller with a standby far behind', () => {
  it('promotes nothing when the only standby is beyond max_lag_on_failover, and says why', async () => {
    const [primary, standby] = hosts as [PgHostServer, PgHostServer];
    await until(
      'a healthy pair',
      async () => (await status()).servers.every((s) => s.role !== 'unknown' && s.role !== 'down'),
      status,
    );
    await sql(standby, 'SELECT pg_wal_replay_pause()');
    await sql(primary, `INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g`);
    // The controller has seen the primary's position move past the standby's by more than the limit.
    await until(
      'the lag seen',
      async () => ((await status()).servers.find((s) => s.role === 'standby')?.lag_bytes ?? 0) > 1024,
      status,
    );
    await primary.killPostmaster();
    const waiting = await until(
      'the reason',
      async () => {
        const s = await status();
        return s.phase === 'no-primary' && /max_lag_on_failover/.test(s.reason ?? '') && s;
      },
      status,
    );
    assert.match(waiting.reason ?? '', /the most advanced, 127\.0\.0\.1:\d+, is \d+ bytes behind/);
    await new Promise((r) => setTimeout(r, 2_000));
    const s = await status();
    assert.equal(s.primary, `127.0.0.1:${primary.pgPort}`, 'nothing promoted');
    assert.equal(s.history.length, 0);
    assert.equal((await sql<{ rec: boolean }>(standby, 'SELECT pg_is_in_recovery() AS rec'))[0]?.rec, true);
    assert.match(
      readFileSync(join(pn.dataDir, 'pgctrl_lag.log'), 'utf8'),
      /waiting: no standby within max_lag_on_failover/,
    );
    const controller = JSON.stringify(pn.node.tree());
    assert.match(controller, /"path":"\/pg\/lag\/controller"[^}]*"restarts":0/);
  });
});
