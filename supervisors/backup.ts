import { hostname } from 'node:os';
import { join } from 'node:path';
import { backupActor } from '../actors/backup/backup-actor.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { GroupDeps } from '../src/node/group.ts';
import { noticeTo } from '../src/node/group.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';

/** `/backup`: the role's backup controller, when its topology gives one (04-postgres.md "backup_controller"). */
export function backupChild(deps: GroupDeps): ChildSpec | undefined {
  const config = deps.placement.role.backup_controller;
  if (!config) return undefined;
  return actorChild(deps.runtime, {
    id: 'backup',
    kind: backupActor,
    args: {
      config,
      workDir: join(deps.dataDir, 'backup'),
      host: hostname(),
      notify: noticeTo(deps.events, deps.clock, '/backup'),
    },
    mode: ACTOR_MODES.backup,
    // A run being stopped needs a moment to kill its remote commands and clean its temporary files.
    shutdown: 30_000,
  });
}
