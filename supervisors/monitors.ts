import { monitorActor } from '../actors/monitors/monitor-actor.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import { noticeTo } from '../src/node/group.ts';
import type { GroupDeps } from '../src/node/group.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';

/**
 * `/services/monitors`: one actor per configured monitor (`monitors` of the role's topology), each independent of
 * the others (one_for_one). A monitor's probes failing is its finding, not its failure; a monitor that crashes is
 * restarted with backoff and starts its counts afresh (a raised condition is raised again after `confirm` rounds).
 */
export function monitorsChild(deps: GroupDeps): ChildSpec | undefined {
  const monitors = deps.placement.role.monitors;
  if (monitors.length === 0) return undefined;
  return supervisorChild({
    id: 'monitors',
    kind: 'monitors-supervisor',
    flags: {
      strategy: 'one_for_one',
      intensity: 100,
      periodMs: 60_000,
      backoff: { initialMs: 200, maxMs: 5_000 },
    },
    children: monitors.map((config) =>
      actorChild(deps.runtime, {
        id: config.name,
        kind: monitorActor,
        args: {
          config,
          topology: deps.topology,
          notice: noticeTo(deps.events, deps.clock, `/services/monitors/${config.name}`),
          leading: deps.leading,
          epoch: deps.epoch,
        },
        mode: ACTOR_MODES.services,
        shutdown: 2_000,
      }),
    ),
  });
}
