import type { ApiArgs } from '../actors/api/api-actor.ts';
import { apiActor } from '../actors/api/api-actor.ts';
import { clusterActor } from '../actors/cluster/cluster-actor.ts';
import type { ClusterArgs } from '../actors/cluster/cluster-actor.ts';
import { domainActor } from '../actors/domain/domain-actor.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import type { MutexService } from '../actors/mutex/mutex-service.ts';
import type { ActorRuntime } from '../src/actor-system/actor-child.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import { parentName } from '../topology/domain-tree.ts';
import type { Placement } from '../topology/placement.ts';
import type { ChildSpec } from './spec.ts';
import { compileFlags } from './spec.ts';
import { supervisorChild } from './supervisor-child.ts';

/**
 * The node's supervision tree (00-overview.md "The actor tree"). The root always runs `cluster` and `api`; the group's
 * subtrees (`domains`, `mutexes`) run only while this instance is its group's active one, and are started in
 * that order and stopped in reverse.
 */

export const ROOT_FLAGS = compileFlags({ strategy: 'one_for_one', intensity: 3, periodMs: 30_000 });

/** The HTTP server: the message API, the facades, /ui and /metrics, on the role's internal interface. */
export function apiChild(rt: ActorRuntime, args: ApiArgs): ChildSpec {
  return actorChild(rt, { id: 'api', kind: apiActor, args, mode: ACTOR_MODES.api, shutdown: 5_000 });
}

export function clusterChild(rt: ActorRuntime, args: ClusterArgs): ChildSpec {
  return actorChild(rt, {
    id: 'cluster',
    kind: clusterActor,
    args,
    mode: ACTOR_MODES.cluster,
    shutdown: 2_000,
  });
}

/** One DomainActor per domain the group serves, parents first. */
export function domainsChild(
  rt: ActorRuntime,
  placement: Placement,
  listedDomains: readonly string[],
): ChildSpec {
  const listed = new Set(listedDomains);
  return supervisorChild({
    id: 'domains',
    kind: 'domain-supervisor',
    // The served domains are a fixed set from the file: one_for_one keeps an operator-stopped domain in place,
    // to be started again.
    flags: { strategy: 'one_for_one', intensity: 10, periodMs: 10_000 },
    children: placement.domains.map((domain) => {
      const parent = parentName(domain);
      return actorChild(rt, {
        id: domain,
        kind: domainActor,
        args: {
          domain,
          parent: parent !== undefined && listed.has(parent) ? parent : undefined,
          site: placement.site,
          group: placement.group,
        },
        mode: ACTOR_MODES.domain,
        shutdown: 2_000,
      });
    }),
  });
}

/**
 * The dynamic supervisor of MutexActors: one per live key, created on first use, stopped when idle. Keys whose
 * saved state has holders start with it, so their holds expire on time.
 */
export function mutexesChild(mutex: MutexService, restored: ChildSpec[]): ChildSpec {
  return supervisorChild({
    id: 'mutexes',
    kind: 'mutex-supervisor',
    // Keys are independent: many may fail at once without the whole service being at fault.
    flags: { strategy: 'simple_one_for_one', intensity: 50, periodMs: 10_000 },
    children: restored,
    onStart: (s) => mutex.attach(s),
  });
}
