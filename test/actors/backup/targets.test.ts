import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { expandPath, secretsOf, shellWord, storageOf } from '../../../actors/backup/targets.ts';
import { BackupController } from '../../../topology/schema.ts';

describe('backup targets', () => {
  it('expands %weekday (1-7), %date and %host in the storage path, in local time', () => {
    const sunday = new Date(2026, 2, 8, 23, 30).getTime();
    assert.equal(expandPath('backup/dow_%weekday', sunday, 'db1'), 'backup/dow_7');
    assert.equal(expandPath('/srv/%host/%date/%weekday', sunday, 'db1'), '/srv/db1/2026-03-08/7');
    assert.equal(expandPath('plain', sunday, 'db1'), 'plain');
  });

  it('a pgdb entry’s or the sync folder’s storage keys override the top level’s', () => {
    const cfg = BackupController.parse({
      hours_interval: [20, 3],
      storage_ssh_host: '10.0.0.1',
      storage_ssh_user: 'top',
      storage_ssh_pwd: 'top-pw-1',
      storage_ssh_path: 'top/%weekday',
      sync_folder: { source: '/srv/sync', storage_ssh_user: 'syncer', storage_ssh_port: 2222 },
      pgdb: [
        {
          servers: [{ ssh_host: 'a', pg_host: 'a' }],
          ssh_user: 'postgres',
          ssh_pwd: 'db-pw-1',
          pg_replica_user: 'r',
          pg_replica_pwd: 'rep-pw-1',
          storage_ssh_path: 'pg',
        },
      ],
    });
    const entry = cfg.pgdb[0];
    assert.ok(entry && cfg.sync_folder);
    assert.deepEqual(storageOf(cfg, entry), {
      target: { host: '10.0.0.1', port: 22, user: 'top', password: 'top-pw-1' },
      path: 'pg',
    });
    assert.deepEqual(storageOf(cfg, cfg.sync_folder), {
      target: { host: '10.0.0.1', port: 2222, user: 'syncer', password: 'top-pw-1' },
      path: 'top/%weekday',
    });
    assert.deepEqual(secretsOf(cfg).sort(), ['db-pw-1', 'rep-pw-1', 'top-pw-1']);
  });

  it('quotes a shell word whatever it holds', () => {
    for (const s of ["it's", '$(touch /tmp/x) `y` "z"', 'a b\nc'])
      assert.equal(execFileSync('sh', ['-c', `printf %s ${shellWord(s)}`], { encoding: 'utf8' }), s);
  });
});
