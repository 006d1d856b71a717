import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupDeps } from '../../src/node/group.ts';
import { backupChild } from '../../supervisors/backup.ts';
import { BackupController } from '../../topology/schema.ts';

const deps = (backup_controller: unknown) =>
  ({ placement: { role: { backup_controller } }, dataDir: '/var/lib/mware' }) as unknown as GroupDeps;

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
});
