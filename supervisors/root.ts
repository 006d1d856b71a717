import type { ApiArgs } from '../actors/api/api-actor.ts';
import { apiActor } from '../actors/api/api-actor.ts';
import type { ClusterArgs } from '../actors/cluster/cluster-actor.ts';
import { clusterActor } from '../actors/cluster/cluster-actor.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import type { ActorRuntime } from '../src/actor-system/actor-child.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { compileFlags } from '../src/supervision/spec.ts';

/**
 * The root of a node's tree (00-overview.md "The actor tree"): `cluster` and `api` always run; the group's subtrees
 * (`domains`, `mutexes`, …) are added while this instance is its group's active one, started in that order and
 * stopped in reverse.
 */

export const ROOT_FLAGS = compileFlags({ strategy: 'one_for_one', intensity: 3, periodMs: 30_000 });

export function clusterChild(rt: ActorRuntime, args: ClusterArgs): ChildSpec {
  return actorChild(rt, {
    id: 'cluster',
    kind: clusterActor,
    args,
    mode: ACTOR_MODES.cluster,
    shutdown: 2_000,
  });
}

/** The HTTP server: the message API, the facades, /ui and /metrics, on the role's internal interface. */
export function apiChild(rt: ActorRuntime, args: ApiArgs): ChildSpec {
  return actorChild(rt, { id: 'api', kind: apiActor, args, mode: ACTOR_MODES.api, shutdown: 5_000 });
}
