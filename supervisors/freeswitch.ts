import { callManagerActor } from '../actors/freeswitch/call-manager.ts';
import { freeswitchHostActor } from '../actors/freeswitch/host-actor.ts';
import { FsFarm } from '../actors/freeswitch/farm.ts';
import { migratorActor } from '../actors/freeswitch/migrator-actor.ts';
import type { FsHostProtocol } from '../actors/freeswitch/protocol.ts';
import { compileFarm } from '../actors/freeswitch/settings.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { ActorRef } from '../src/actor-system/actor-ref.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import { RecoveryTable } from '../src/freeswitch/recovery-table.ts';
import type { GroupBoards, GroupDeps } from '../src/node/group.ts';
import { noticeTo } from '../src/node/group.ts';
import { pgLimits } from '../src/pg/db.ts';
import { PrimaryFollower } from '../src/pg/follow.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';

/**
 * `/freeswitch`: the FreeSWITCH farm of the group's `freeswitch` parameter (05-freeswitch.md). The host actors
 * start first, then the migrator (rest_for_one: a restarted host actor leaves it running — it reads the board), and
 * last the call manager (`/freeswitch/calls`), which also acts through the host actors and reads the board.
 * A host that stays down makes its actor fail again and again: its supervisor's intensity is high and its backoff
 * caps at two seconds, so a dead host is retried every couple of seconds and never takes the farm down with it.
 * The farm's board goes on `boards` for the group's other services (the CTI adapters follow its call events).
 */
export function freeswitchChild(deps: GroupDeps, boards: GroupBoards = {}): ChildSpec | undefined {
  const fs = deps.placement.role.freeswitch;
  if (!fs) return undefined;
  const settings = compileFarm(fs);
  const farm = new FsFarm(settings.hosts.map((h) => h.name));
  boards.farm = farm;
  let db = follower(settings.recoveryDb);
  const table = new RecoveryTable({
    query: (sql, params) => db.query(sql, params ? [...params] : []) as never,
  });
  const base = '/freeswitch';
  return supervisorChild({
    id: 'freeswitch',
    kind: 'freeswitch-supervisor',
    flags: { strategy: 'rest_for_one', intensity: 10, periodMs: 60_000 },
    onExit: () => {
      db.close();
      db = follower(settings.recoveryDb);
    },
    children: [
      supervisorChild({
        id: 'hosts',
        kind: 'freeswitch-hosts',
        flags: {
          strategy: 'one_for_one',
          intensity: 1_000,
          periodMs: 60_000,
          backoff: { initialMs: 200, maxMs: 2_000 },
        },
        children: settings.hosts.map((host) =>
          actorChild(deps.runtime, {
            id: host.name,
            kind: freeswitchHostActor,
            args: {
              host,
              farm,
              probeMs: settings.probeMs,
              clock: deps.clock,
              connectTimeoutMs: 2_000,
              commandTimeoutMs: 5_000,
            },
            mode: ACTOR_MODES.freeswitch,
            shutdown: 2_000,
          }),
        ),
      }),
      actorChild(deps.runtime, {
        id: 'migrator',
        kind: migratorActor,
        args: {
          settings,
          farm,
          table,
          command: (host, kind, command, timeoutMs) =>
            new ActorRef<FsHostProtocol>(`${base}/hosts/${host}`, deps.directory).ask(
              kind,
              { command, timeout_ms: timeoutMs },
              { timeoutMs: timeoutMs + 1_000 },
            ),
          clock: deps.clock,
          epoch: deps.epoch,
          leading: deps.leading,
          notify: noticeTo(deps.events, deps.clock, `${base}/migrator`),
          dataDir: deps.dataDir,
        },
        mode: ACTOR_MODES.freeswitch,
        shutdown: 5_000,
      }),
      actorChild(deps.runtime, {
        id: 'calls',
        kind: callManagerActor,
        args: {
          settings: settings.callManager,
          farm,
          command: (host, kind, command, timeoutMs) =>
            new ActorRef<FsHostProtocol>(`${base}/hosts/${host}`, deps.directory).ask(
              kind,
              { command, timeout_ms: timeoutMs },
              { timeoutMs: timeoutMs + 1_000 },
            ),
        },
        mode: ACTOR_MODES.freeswitch,
        shutdown: 2_000,
      }),
    ],
  });
}

function follower(target: ReturnType<typeof compileFarm>['recoveryDb']): PrimaryFollower {
  return new PrimaryFollower(async () => target, {
    retryMs: 5_000,
    limits: pgLimits({ connectTimeoutMs: 2_000, statementTimeoutMs: 10_000, queryTimeoutMs: 12_000 }),
  });
}
