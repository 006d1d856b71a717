import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BackupRunReport } from '../../actors/backup/protocol.ts';
import { expectError } from '../support/api-errors.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import type { ControllerNode } from '../support/controller-node.ts';
import { CONTROLLER_SECRETS, startControllerNode } from '../support/controller-node.ts';

/**
 * The PostgreSQL and backup controller facades through real HTTP, against a real node with both controllers and no
 * server behind them (test/support/controller-node.ts), and a second node with neither.
 */

const SECRETS = CONTROLLER_SECRETS;

let cn: ControllerNode;
let n: ApiNode;
let bare: ApiNode;
let servers: string[];

/** Every answer is checked for the configured passwords. */
async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  for (const s of Object.values(SECRETS)) assert.ok(!text.includes(s), `a secret in ${text}`);
  return JSON.parse(text) as T;
}

const post = (node: ApiNode, path: string, body: unknown, token: string = TOKENS.admin) =>
  node.call(path, { method: 'POST', body: JSON.stringify(body), token });

before(async () => {
  cn = await startControllerNode();
  ({ n, servers } = cn);
  bare = await startApiNode();
});

after(async () => {
  await cn?.stop();
  await bare?.stop();
});

interface PgView {
  key: string;
  phase: string;
  reason: string | null;
  primary: string | null;
  servers: { name: string; role: string; lag_bytes: number | null; lag_seconds: number | null }[];
  history: unknown[];
  last_failover: unknown;
}

describe('GET /api/v1/pg', () => {
  it('lists every replicated cluster with its phase, primary and servers, and no secret', async () => {
    const body = await json<{ clusters: { key: string; status: PgView | null; error: unknown }[] }>(
      await n.call('/api/v1/pg', { token: TOKENS.reader }),
    );
    assert.equal(body.clusters.length, 1);
    const [c] = body.clusters;
    assert.equal(c?.key, 'general');
    assert.equal(c?.error, null);
    const s = c?.status as PgView;
    assert.equal(s.key, 'general');
    assert.deepEqual(s.servers.map((x) => x.name).sort(), [...servers].sort());
    for (const x of s.servers) assert.ok(['down', 'unknown'].includes(x.role), x.role);
    assert.equal(s.primary, null);
    assert.ok(['starting', 'no-primary', 'isolated'].includes(s.phase), s.phase);
    assert.deepEqual(s.history, []);
    assert.equal(s.last_failover, null);
  });

  it('shows one cluster by key, and 404 MW_ERR_PG_UNKNOWN_CLUSTER for another key', async () => {
    const s = await json<PgView>(await n.call('/api/v1/pg/general', { token: TOKENS.reader }));
    assert.equal(s.key, 'general');
    assert.equal(s.servers.length, 2);
    const e = await expectError(await n.call('/api/v1/pg/billing'), 404, 'MW_ERR_PG_UNKNOWN_CLUSTER');
    assert.deepEqual(e.error.details?.known, ['general']);
  });

  it('answers 404 MW_ERR_PG_NOT_CONFIGURED on a role without a pg_controller', async () => {
    await expectError(await bare.call('/api/v1/pg'), 404, 'MW_ERR_PG_NOT_CONFIGURED');
    await expectError(await bare.call('/api/v1/pg/general'), 404, 'MW_ERR_PG_NOT_CONFIGURED');
    await expectError(
      await post(bare, '/api/v1/pg/general/switchover', { server: 'x:1' }),
      404,
      'MW_ERR_PG_NOT_CONFIGURED',
    );
  });

  it('needs a token, and any token reads', async () => {
    await expectError(await n.call('/api/v1/pg', { token: null }), 401, 'MW_ERR_UNAUTHORIZED');
    await json(await n.call('/api/v1/pg', { token: TOKENS.sendOnly }));
  });
});

describe('POST /api/v1/pg/{key}/switchover', () => {
  it('refuses with 409 MW_ERR_PG_SWITCHOVER_REFUSED a server not in the cluster, naming the known ones', async () => {
    const e = await expectError(
      await post(n, '/api/v1/pg/general/switchover', { server: '127.0.0.1:1' }),
      409,
      'MW_ERR_PG_SWITCHOVER_REFUSED',
    );
    assert.deepEqual((e.error.details?.known as string[]).sort(), [...servers].sort());
  });

  it('refuses with 409 a switchover when the cluster has no primary to switch from', async () => {
    const e = await expectError(
      await post(n, '/api/v1/pg/general/switchover', { server: servers[1] }),
      409,
      'MW_ERR_PG_SWITCHOVER_REFUSED',
    );
    assert.match(e.error.message, /no primary/);
  });

  it('leaves the controller running when it refuses (no restart)', async () => {
    const restarts = async () =>
      (
        (await (await n.call('/api/v1/actors/pg/general/controller')).json()) as {
          node: { restarts: number };
        }
      ).node.restarts;
    const before = await restarts();
    await expectError(
      await post(n, '/api/v1/pg/general/switchover', { server: '127.0.0.1:1' }),
      409,
      'MW_ERR_PG_SWITCHOVER_REFUSED',
    );
    assert.equal(await restarts(), before);
  });

  it('is for admin tokens only, checks its body, and 404s an unknown key', async () => {
    await expectError(
      await post(n, '/api/v1/pg/general/switchover', { server: servers[1] }, TOKENS.scripts),
      403,
      'MW_ERR_FORBIDDEN',
    );
    const bad = await expectError(
      await post(n, '/api/v1/pg/general/switchover', {}),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    assert.match(bad.error.message, /body\.server/);
    await expectError(
      await post(n, '/api/v1/pg/general/switchover', { server: servers[1], timeout_ms: 5 }),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    await expectError(
      await post(n, '/api/v1/pg/billing/switchover', { server: servers[1] }),
      404,
      'MW_ERR_PG_UNKNOWN_CLUSTER',
    );
  });
});

describe('the backup facade', () => {
  it('shows the phase, the schedule and the next window; 404 MW_ERR_BACKUP_NOT_CONFIGURED without one', async () => {
    const s = await json<{
      phase: string;
      next_at: number | null;
      last: unknown;
      age_seconds: number | null;
    }>(await n.call('/api/v1/backup', { token: TOKENS.reader }));
    assert.equal(s.phase, 'idle');
    assert.ok(typeof s.next_at === 'number' && s.next_at > Date.now(), String(s.next_at));
    assert.equal(s.last, null);
    assert.equal(s.age_seconds, null);
    await expectError(await bare.call('/api/v1/backup'), 404, 'MW_ERR_BACKUP_NOT_CONFIGURED');
    await expectError(await post(bare, '/api/v1/backup/run-now', null), 404, 'MW_ERR_BACKUP_NOT_CONFIGURED');
  });

  it('runs now for admin tokens, refuses a second run with 409 MW_ERR_BACKUP_RUNNING, and reports the failure', async () => {
    await expectError(await post(n, '/api/v1/backup/run-now', null, TOKENS.scripts), 403, 'MW_ERR_FORBIDDEN');
    const first = post(n, '/api/v1/backup/run-now', null);
    // The run hangs in its SSH handshake with the silent listener: it is running until the probe gives up.
    const deadline = Date.now() + 5_000;
    for (;;) {
      const s = await json<{ phase: string }>(await n.call('/api/v1/backup'));
      if (s.phase === 'running') break;
      assert.ok(Date.now() < deadline, `never running: ${s.phase}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const e = await expectError(await post(n, '/api/v1/backup/run-now', null), 409, 'MW_ERR_BACKUP_RUNNING');
    assert.match(e.error.message, /already under way/);
    const report = await json<BackupRunReport>(await first);
    assert.equal(report.ok, false);
    assert.equal(report.trigger, 'run-now');
    assert.equal(typeof report.error, 'string');
    const after = await json<{ phase: string; last: BackupRunReport | null }>(await n.call('/api/v1/backup'));
    assert.equal(after.last?.ok, false);
    assert.equal(after.phase, 'waiting-retry');
  });
});

describe('the controller metrics on /metrics', () => {
  it('has the primary and failovers of each cluster and the backup age, and none on a node without them', async () => {
    const text = await (await n.call('/metrics')).text();
    for (const s of servers)
      assert.match(
        text,
        new RegExp(`^mware_pg_primary\\{cluster="general",server="${s}",node="mware1"\\} 0$`, 'm'),
      );
    assert.match(text, /^mware_pg_failovers_total\{cluster="general",kind="host-lost",node="mware1"\} 0$/m);
    assert.match(text, /^# TYPE mware_pg_replication_lag_bytes gauge$/m);
    assert.match(text, /^# TYPE mware_pg_replication_lag_seconds gauge$/m);
    assert.match(text, /^# TYPE mware_backup_age_seconds gauge$/m);
    const none = await (await bare.call('/metrics')).text();
    assert.doesNotMatch(none, /mware_pg_/);
    assert.doesNotMatch(none, /^mware_backup_age_seconds\{/m);
  });
});
