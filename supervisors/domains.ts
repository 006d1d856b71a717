import { domainActor } from '../actors/domain/domain-actor.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import type { ActorRuntime } from '../src/actor-system/actor-child.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';
import { parentName } from '../topology/domain-tree.ts';
import type { Placement } from '../topology/placement.ts';

/**
 * `/domains`: one DomainActor per domain the group serves, parents first. The served domains are a fixed set
 * from the file, so one_for_one keeps an operator-stopped domain in place, to be started again.
 */
export function domainsChild(
  rt: ActorRuntime,
  placement: Placement,
  listedDomains: readonly string[],
): ChildSpec {
  const listed = new Set(listedDomains);
  return supervisorChild({
    id: 'domains',
    kind: 'domain-supervisor',
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
