import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BackupProtocol, BackupRunReport } from '../../actors/backup/protocol.ts';
import { ActorRef } from '../../src/actor-system/actor-ref.ts';
import type { GroupDeps } from '../../src/node/group.ts';
import { ManualClock } from '../../src/supervision/clock.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
import { backupChild } from '../../supervisors/backup.ts';
import { BackupController } from '../../topology/schema.ts';
import { freePort } from '../harness/index.ts';
import { actorWorld, sharedComedy } from '../support/actor-world.ts';

const comedy = sharedComedy();
const deps = (backup_controller: unknown, more: Partial<GroupDeps> = {}) =>
  ({
    placement: { role: { backup_controller } },
    dataDir: '/var/lib/mware',
    ...more,
  }) as unknown as GroupDeps;

describe('backup subtree', () => {
  it('is absent when the role has no backup_controller', () => {
    assert.equal(backupChild(deps(undefined)), undefined);
  });

  it('is one in-memory actor /backup of kind backup when the role has one', () => {
    const spec = backupChild(deps(BackupController.parse({ hours_interval: [20, 3] })));
    assert.equal(spec?.id, 'backup');
    assert.equal(spec?.kind, 'backup');
    assert.equal(spec?.mode, 'in-memory');
  });

  it('a failed run shows in the tree as /backup’s lastError, on the event stream, and in its saved state', async () => {
    const clock = new ManualClock(0, new Date(2026, 2, 2, 12).getTime());
    const w = actorWorld(comedy(), { clock });
    const closed = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'mware-backup-sup-'));
    const config = BackupController.parse({
      hours_interval: [20, 3],
      storage_ssh_host: '127.0.0.1',
      storage_ssh_user: 'nobody',
      storage_ssh_path: 'backup',
      pgdb: [
        {
          servers: [{ ssh_host: '127.0.0.1', pg_host: '127.0.0.1', ssh_port: closed, pg_port: closed }],
          ssh_user: 'postgres',
          ssh_pwd: 'sup-test-pw-1',
          pg_replica_user: 'era_replica',
        },
      ],
    });
    const spec = backupChild(
      deps(config, { runtime: w.runtime, dataDir, events: w.env.events, clock, log: w.env.log }),
    );
    assert.ok(spec);
    const sup = new Supervisor('/', compileFlags({ intensity: 3, periodMs: 5_000 }), [spec], w.env);
    await sup.start();
    try {
      const ref = new ActorRef<BackupProtocol>('/backup', w.env.directory);
      const report: BackupRunReport = await ref.ask('run-now', null, { timeoutMs: 30_000 });
      assert.equal(report.ok, false);
      const node = sup.inspectChildren().find((n) => n.path === '/backup');
      assert.equal(node?.state, 'running');
      assert.equal(node?.restarts, 0);
      assert.equal(node?.lastError?.code, 'MW_ERR_BACKUP_STEP');
      assert.match(node?.lastError?.message ?? '', /pick-server .*no server is reachable/);
      const failed = await w.next((e) => e.type === 'notice' && e.event === 'run-failed');
      assert.equal(failed.path, '/backup');
      assert.equal((w.saved.get('backup') as { last: BackupRunReport }).last.ok, false);
      assert.ok(!JSON.stringify([node, w.events]).includes('sup-test-pw-1'));
    } finally {
      await sup.stop(5_000);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
