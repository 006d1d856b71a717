import { CTI_ADAPTERS, isCtiAdapterKey } from '../actors/cti/adapters.ts';
import { ctiAdapterActor } from '../actors/cti/cti-adapter-actor.ts';
import { CtiFeed, follow } from '../actors/cti/feed.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { GroupBoards, GroupDeps } from '../src/node/group.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';

/**
 * `/services/cti`: one CtiAdapterActor per `cti_adapters` entry, at `/services/cti/<key>` (a key is used once per
 * role). Each adapter's buffer is built here, follows the farm's board from now on, and outlives the actor: a
 * restarted adapter server resumes its clients from it. The adapters are independent (one_for_one); one whose port
 * is taken fails its start again and again, spaced by the backoff.
 */
export function ctiChild(deps: GroupDeps, boards: GroupBoards): ChildSpec | undefined {
  const role = deps.placement.role;
  // topology/rules.ts has checked that the role has a farm and that every key is known.
  const farm = boards.farm;
  if (role.cti_adapters.length === 0 || !farm) return undefined;
  const children = role.cti_adapters.flatMap((a) => {
    if (!isCtiAdapterKey(a.key)) return [];
    const feed = new CtiFeed(a.buffer);
    follow(feed, farm);
    const address =
      a.iface === 'default'
        ? deps.placement.address
        : (deps.placement.ifaces[a.iface] ?? deps.placement.address);
    return [
      actorChild(deps.runtime, {
        id: a.key,
        kind: ctiAdapterActor,
        args: { key: a.key, adapter: CTI_ADAPTERS[a.key], address, port: a.port, token: a.token, feed },
        mode: ACTOR_MODES.services,
        shutdown: 2_000,
      }),
    ];
  });
  return supervisorChild({
    id: 'cti',
    kind: 'cti-supervisor',
    flags: {
      strategy: 'one_for_one',
      intensity: 100,
      periodMs: 60_000,
      backoff: { initialMs: 200, maxMs: 5_000 },
    },
    children,
  });
}
