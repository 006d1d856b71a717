import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MwareClient } from '../../src/client/client.ts';
import { renderBackup, renderPg, renderPgHistory } from '../../src/shell/controller-commands.ts';
import { complete, runOnce } from '../../src/shell/shell.ts';
import { style } from '../../src/shell/style.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import type { ControllerNode } from '../support/controller-node.ts';
import { pgFailover, pgServer } from '../support/pg-status.ts';
import { CONTROLLER_SECRETS, startControllerNode } from '../support/controller-node.ts';

/**
 * The shell's `pg` and `backup` commands: run as `mware shell -c` runs them (runOnce, plain output) against a real node
 * with both controllers and no server behind them (test/support/controller-node.ts), and their rendering of
 * reports that such a node cannot produce (a standby with lag, a failover history, a good backup).
 */

let cn: ControllerNode;
let bare: ApiNode;
before(async () => {
  cn = await startControllerNode();
  bare = await startApiNode();
});
after(async () => {
  await cn?.stop();
  await bare?.stop();
});

async function shell(
  node: ApiNode,
  line: string,
  token: string = TOKENS.admin,
): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const client = new MwareClient({ url: node.url, token, timeoutMs: 10_000, channel: false });
  const code = await runOnce(client, line, sink, false);
  client.close();
  for (const s of Object.values(CONTROLLER_SECRETS)) assert.ok(!out.includes(s), `a secret in ${out}`);
  return { code, out };
}

const plain = style(false);

describe('pg in the shell', () => {
  it('pg: each cluster with its primary, phase, servers and last failover', async () => {
    const r = await shell(cn.n, 'pg', TOKENS.reader);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^general {2}primary none {2}phase (starting|no-primary|isolated)/m);
    assert.match(r.out, /SERVER\s+ROLE\s+LAG BYTES\s+LAG S/);
    for (const s of cn.servers) assert.match(r.out, new RegExp(`^  ${s}\\s+(down|unknown)\\s+-\\s+-`, 'm'));
    assert.match(r.out, /last failover: none/);
  });

  it('pg history KEY, and pg switchover KEY SERVER printing the refusal with its code (exit 1)', async () => {
    const h = await shell(cn.n, 'pg history general');
    assert.equal(h.code, 0, h.out);
    assert.equal(h.out.trim(), 'general: no change of primary yet');
    const refused = await shell(cn.n, 'pg switchover general 127.0.0.1:1');
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /MW_ERR_PG_SWITCHOVER_REFUSED: no server 127\.0\.0\.1:1 in cluster general/);
    const unknown = await shell(cn.n, 'pg history billing');
    assert.equal(unknown.code, 1);
    assert.match(unknown.out, /MW_ERR_PG_UNKNOWN_CLUSTER/);
    const usage = await shell(cn.n, 'pg switchover general');
    assert.equal(usage.code, 1);
    assert.match(usage.out, /usage: pg switchover KEY SERVER/);
    const none = await shell(bare, 'pg');
    assert.equal(none.code, 1);
    assert.match(none.out, /MW_ERR_PG_NOT_CONFIGURED/);
  });

  it('renders a standby’s lag and the failover history, newest first', () => {
    const status = {
      key: 'general',
      phase: 'watching' as const,
      reason: null,
      primary: 'db2:5441',
      epoch: 4,
      referee: { address: '127.0.0.1:53', reachable: true },
      servers: [pgServer('db1:5441', 'standby', 25_000), pgServer('db2:5441', 'primary')],
      history: [
        pgFailover(Date.UTC(2026, 11, 6, 10, 0, 0), 'db2:5441', 'db1:5441', 'switchover'),
        pgFailover(Date.UTC(2026, 11, 6, 11, 0, 0), 'db1:5441', 'db2:5441', 'host-lost'),
      ],
      last_failover: null,
    };
    const lines = renderPg([{ key: 'general', status, error: null }], plain);
    assert.equal(lines[0], 'general  primary db2:5441  phase watching  epoch 4');
    assert.match(lines.join('\n'), /^ {2}db1:5441\s+standby\s+25000\s+0\.250$/m);
    assert.match(lines.join('\n'), /^ {2}db2:5441\s+primary\s+-\s+-$/m);
    assert.match(
      lines.at(-1) ?? '',
      /last failover: 2026-12-06 11:00:00 {2}host-lost {2}db1:5441 → db2:5441 in 850 ms \(epoch 4\); db1:5441 rejoined by rewind in 2\.3 s/,
    );
    const history = renderPgHistory(status);
    assert.equal(history.length, 2);
    assert.match(history[0] ?? '', /^2026-12-06 11:00:00 {2}host-lost/);
    assert.match(history[1] ?? '', /^2026-12-06 10:00:00 {2}switchover {2}db2:5441 → db1:5441/);
    const down = renderPg(
      [{ key: 'billing', status: null, error: { code: 'MW_ERR_TIMEOUT', message: 'late' } }],
      plain,
    );
    assert.deepEqual(down, ['billing  not answering: MW_ERR_TIMEOUT: late']);
  });
});

describe('backup in the shell', () => {
  it('backup: phase, window, next attempt, last success, last run', async () => {
    const r = await shell(cn.n, 'backup', TOKENS.reader);
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /^backup {2}phase (idle|waiting-retry) {2}window \d\d:00–\d\d:00 on weekdays 1,2,3,4,5,6,7$/m,
    );
    assert.match(r.out, /^ {2}next attempt {3}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in /m);
    assert.match(r.out, /^ {2}last success {3}never$/m);
    const none = await shell(bare, 'backup');
    assert.equal(none.code, 1);
    assert.match(none.out, /MW_ERR_BACKUP_NOT_CONFIGURED/);
  });

  it('backup run-now prints the failed run’s report, step by step', async () => {
    const r = await shell(cn.n, 'backup run-now');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^failed: .+ {2}run-now {2}started \d{4}-/m);
    assert.match(r.out, /^ {4}pick-server\s+\S+\s+FAILED/m);
    const forbidden = await shell(cn.n, 'backup run-now', TOKENS.reader);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.out, /MW_ERR_FORBIDDEN/);
  });

  it('renders a good run with its size and duration, and the age of the last success', () => {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const lines = renderBackup(
      {
        phase: 'idle',
        hours_interval: [20, 3],
        weekdays: [1, 2, 3, 4, 5],
        next_at: now + 8 * 3_600_000,
        last: {
          started_at: now - 3 * 3_600_000,
          finished_at: now - 3 * 3_600_000 + 29_800,
          ok: true,
          trigger: 'window',
          steps: [{ step: 'upload', target: 'general', ok: true, ms: 800, bytes: 62 * 1024 * 1024 }],
          bytes: 62 * 1024 * 1024,
          error: null,
        },
        last_success_at: now - 3 * 3_600_000 + 29_800,
        running_since: null,
        age_seconds: 0,
      },
      plain,
      now,
    );
    assert.equal(lines[0], 'backup  phase idle  window 20:00–03:00 on weekdays 1,2,3,4,5');
    assert.equal(lines[1], '  next attempt   2026-12-06 20:00:00 (in 8 h 0 min)');
    assert.equal(lines[2], '  last success   2026-12-06 09:00:29 (2 h 59 min ago)');
    assert.equal(
      lines[3],
      '  last run       ok  window  started 2026-12-06 09:00:00  took 29.8 s  sent 62 MiB',
    );
    assert.match(lines[4] ?? '', /^ {4}upload\s+general\s+ok\s+800 ms\s+62 MiB$/);
  });
});

describe('completion of pg and backup', () => {
  it('completes subcommands, cluster keys and a cluster’s servers', async () => {
    const client = new MwareClient({ url: cn.n.url, token: TOKENS.admin, channel: false });
    assert.deepEqual(await complete(client, '/', 'pg '), [['history', 'switchover'], '']);
    assert.deepEqual(await complete(client, '/', 'pg sw'), [['switchover'], 'sw']);
    assert.deepEqual(await complete(client, '/', 'pg history '), [['general'], '']);
    assert.deepEqual(
      (await complete(client, '/', 'pg switchover general '))[0].sort(),
      [...cn.servers].sort(),
    );
    assert.deepEqual(await complete(client, '/', 'backup r'), [['run-now'], 'r']);
    assert.deepEqual(await complete(client, '/', 'ba'), [['backup'], 'ba']);
    client.close();
  });
});
