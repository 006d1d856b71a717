import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PgTarget } from '../../src/pg/db.ts';
import { connectPg, pgLimits, pgQueryOnce, queryWithDeadline } from '../../src/pg/db.ts';
import { freePort } from '../harness/ports.ts';
import type { PgServer } from '../harness/postgres.ts';
import { startPostgres } from '../harness/postgres.ts';

/** The pg layer against a real PostgreSQL 15 (started once for this file on a loopback port). */

const PASSWORD = 'pg-secret-do-not-print-1234';

describe('the pg layer', () => {
  let server: PgServer;
  let target: PgTarget;
  const limits = pgLimits({ connectTimeoutMs: 1_000, statementTimeoutMs: 400, queryTimeoutMs: 800 });

  before(async () => {
    server = await startPostgres({ name: 'pg-db-layer' });
    // The harness trusts loopback, so the password is never checked: it is here to be kept out of every message.
    target = {
      host: server.host,
      port: server.port,
      database: 'postgres',
      user: 'postgres',
      password: PASSWORD,
    };
  });
  after(async () => {
    server?.process.signal('SIGCONT');
    await server?.stop();
  });

  function assertNoSecret(err: unknown): void {
    const text = `${String(err)} ${JSON.stringify(err)} ${String((err as Error).cause)}`;
    assert.ok(!text.includes(PASSWORD), `the password leaked into: ${text}`);
  }

  it('runs a query', async () => {
    const r = await pgQueryOnce<{ n: number }>(target, 'SELECT $1::int + 1 AS n', [41], limits);
    assert.equal(r.rows[0]?.n, 42);
  });

  it('reports a closed port as MW_ERR_PG_UNREACHABLE at once', async () => {
    const started = Date.now();
    await assert.rejects(
      pgQueryOnce({ ...target, port: await freePort() }, 'SELECT 1', [], limits),
      (err) => {
        assert.equal((err as { code: string }).code, 'MW_ERR_PG_UNREACHABLE');
        assertNoSecret(err);
        return true;
      },
    );
    assert.ok(Date.now() - started < 1_000);
  });

  it('cancels a statement past statement_timeout with MW_ERR_PG_TIMEOUT, and the client stays usable', async () => {
    const client = await connectPg(target, limits);
    try {
      await assert.rejects(queryWithDeadline(client, target, 'SELECT pg_sleep(5)', [], 2_000), (err) => {
        assert.equal((err as { code: string }).code, 'MW_ERR_PG_TIMEOUT');
        assert.equal((err as { details: { phase: string } }).details.phase, 'statement');
        return true;
      });
      assert.equal((await queryWithDeadline(client, target, 'SELECT 1 AS one')).rows[0]?.one, 1);
    } finally {
      await client.end();
    }
  });

  it('maps a PostgreSQL error to MW_ERR_PG_QUERY with its SQLSTATE, without the SQL or a secret', async () => {
    await assert.rejects(
      pgQueryOnce(target, `SELECT '${PASSWORD}' FROM no_such_table`, [], limits),
      (err) => {
        assert.equal((err as { code: string }).code, 'MW_ERR_PG_QUERY');
        assert.equal((err as { details: { sqlstate: string } }).details.sqlstate, '42P01');
        assertNoSecret(err);
        return true;
      },
    );
  });

  it('fails within the connect deadline when the postmaster is stopped (SIGSTOP), instead of hanging', async () => {
    server.process.signal('SIGSTOP');
    try {
      const started = Date.now();
      await assert.rejects(pgQueryOnce(target, 'SELECT 1', [], limits), (err) => {
        assert.equal((err as { code: string }).code, 'MW_ERR_PG_TIMEOUT');
        assert.equal((err as { details: { phase: string } }).details.phase, 'connect');
        assertNoSecret(err);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 2_000, `took ${took} ms`);
    } finally {
      server.process.signal('SIGCONT');
    }
    assert.equal((await pgQueryOnce(target, 'SELECT 1 AS one', [], limits)).rows[0]?.['one'], 1);
  });

  it('fails within the query deadline when the backend serving the connection is stopped', async () => {
    const client = await connectPg(target, limits);
    const pid = (await queryWithDeadline<{ pid: number }>(client, target, 'SELECT pg_backend_pid() AS pid'))
      .rows[0]?.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      await assert.rejects(queryWithDeadline(client, target, 'SELECT 1', [], 500), (err) => {
        assert.equal((err as { code: string }).code, 'MW_ERR_PG_TIMEOUT');
        assert.equal((err as { details: { phase: string } }).details.phase, 'query');
        return true;
      });
      assert.ok(Date.now() - started < 1_500);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
