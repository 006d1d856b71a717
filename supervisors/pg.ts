import { PgBoard } from '../actors/pg/board.ts';
import { DecisionLog } from '../actors/pg/decision-log.ts';
import { pgControllerActor } from '../actors/pg/pg-controller-actor.ts';
import { pgServerActor } from '../actors/pg/pg-server-actor.ts';
import { refereeCheck } from '../actors/pg/referee.ts';
import { clusterSecrets, compileCluster } from '../actors/pg/settings.ts';
import type { PgClusterSettings } from '../actors/pg/settings.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { ActorRef } from '../src/actor-system/actor-ref.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { GroupDeps } from '../src/node/group.ts';
import { noticeTo } from '../src/node/group.ts';
import { pgLimits } from '../src/pg/db.ts';
import { serializeError } from '../src/errors.ts';
import { SshPool } from '../src/ssh/pool.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';

/**
 * `/pg`: the PostgreSQL replication controller (04-postgres.md), one subtree per replicated cluster of the group's
 * `pg_controller`. In a cluster's subtree the server actors start first and the decision actor last (rest_for_one):
 * a restarted server actor leaves the decision actor running (it reads the board), while a restarted decision
 * actor restores its saved state and goes on.
 */

/** Probes are short: a dead host must be noticed within a confirmation window. */
const PROBE_LIMITS = pgLimits({ connectTimeoutMs: 1_000, statementTimeoutMs: 1_500, queryTimeoutMs: 2_000 });

export function pgChild(deps: GroupDeps): ChildSpec | undefined {
  const clusters = deps.placement.role.pg_controller;
  if (clusters.length === 0) return undefined;
  return supervisorChild({
    id: 'pg',
    kind: 'pg-supervisor',
    flags: { strategy: 'one_for_one', intensity: 10, periodMs: 60_000 },
    children: clusters.map((c) => clusterChild(deps, compileCluster(c))),
  });
}

function clusterChild(deps: GroupDeps, cluster: PgClusterSettings): ChildSpec {
  const board = new PgBoard(cluster.servers.map((s) => s.name));
  // One SSH pool per incarnation of the subtree: its connections close with it.
  let ssh = new SshPool({ connectTimeoutMs: 1_500 });
  const base = `/pg/${cluster.key}`;
  const log = new DecisionLog(deps.dataDir, cluster.key, clusterSecrets(cluster), (err) =>
    deps.log.warn({ err: serializeError(err) }, 'cannot write the pg decision log'),
  );
  return supervisorChild({
    id: cluster.key,
    kind: 'pg-cluster',
    flags: { strategy: 'rest_for_one', intensity: 10, periodMs: 60_000 },
    // Actors read the pool when they start: the next incarnation of the subtree gets a fresh one.
    onExit: () => {
      ssh.close();
      ssh = new SshPool({ connectTimeoutMs: 1_500 });
    },
    children: [
      ...cluster.servers.map((server) =>
        actorChild(deps.runtime, {
          id: server.name,
          kind: pgServerActor,
          args: {
            server,
            board,
            get ssh() {
              return ssh;
            },
            limits: PROBE_LIMITS,
            probeMs: cluster.probeMs,
            clock: deps.clock,
          },
          mode: ACTOR_MODES.pg,
          shutdown: 5_000,
        }),
      ),
      actorChild(deps.runtime, {
        id: 'controller',
        kind: pgControllerActor,
        args: {
          cluster,
          board,
          get ssh() {
            return ssh;
          },
          limits: pgLimits({ connectTimeoutMs: 2_000 }),
          epoch: deps.epoch,
          leading: deps.leading,
          notify: noticeTo(deps.events, deps.clock, `${base}/controller`),
          log,
          referee: cluster.referee === undefined ? undefined : refereeCheck(cluster.referee),
          probe: async (server) => {
            await new ActorRef(`${base}/${server}`, deps.directory).ask('probe', null, { timeoutMs: 10_000 });
          },
          clock: deps.clock,
        },
        mode: ACTOR_MODES.pg,
        shutdown: 5_000,
      }),
    ],
  });
}
