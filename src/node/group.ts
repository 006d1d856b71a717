import type { FsFarm } from '../../actors/freeswitch/farm.ts';
import type { MutexService } from '../../actors/mutex/mutex-service.ts';
import { backupChild } from '../../supervisors/backup.ts';
import { domainsChild } from '../../supervisors/domains.ts';
import { mutexesChild } from '../../supervisors/mutexes.ts';
import type { Placement } from '../../topology/placement.ts';
import type { Topology } from '../../topology/schema.ts';
import type { ActorRuntime } from '../actor-system/actor-child.ts';
import type { Log } from '../log/log.ts';
import type { Clock } from '../supervision/clock.ts';
import type { EventStream, ServiceNotice } from '../supervision/events.ts';
import type { ChildSpec } from '../supervision/spec.ts';
import type { Supervisor } from '../supervision/supervisor.ts';
import type { Directory } from '../supervision/directory.ts';
import type { SystemState } from '../monitor/schemas.ts';
import { pgChild } from '../../supervisors/pg.ts';
import { freeswitchChild } from '../../supervisors/freeswitch.ts';
import { servicesChild } from '../../supervisors/services.ts';
import { svcTasksChild } from '../../supervisors/svctasks.ts';
import type { ClusterPeers } from '../../actors/svctasks/sites.ts';
import type { StateAccess } from '../actor-system/incarnation.ts';

/**
 * The group's subtrees: what runs only on the active instance of a group (00-overview.md "The actor tree"). They
 * start in order once the node leads its group, their saved state restored first, and stop newest first when it
 * stops leading, every side effect with them.
 */

/** What the group's services are given by their node. */
export interface GroupDeps {
  runtime: ActorRuntime;
  placement: Placement;
  /** The whole file (a monitor watches the other groups' members). */
  topology: Topology;
  listedDomains: readonly string[];
  mutex: MutexService;
  /** The node's data directory (the pg controller's `pgctrl_<key>.log` lives there). */
  dataDir: string;
  /** The group's fencing epoch now (0 while not leading). */
  epoch: () => number;
  /** True while this node may act as its group's active instance, read at the moment of the question. */
  leading: () => boolean;
  clock: Clock;
  log: Log;
  events: EventStream;
  directory: Directory;
  /** The system state now, collected from every node (the Telegram bot polls it). */
  systemState: () => Promise<SystemState>;
  /** The node's saved state (fenced by the epoch), for services that keep one key per item (service tasks). */
  state: StateAccess;
  /** Other groups' active instances and a way to ask them (undefined on the embedded default). */
  peers: ClusterPeers | undefined;
}

/**
 * What the subtrees of one leadership share, built afresh with them: the FreeSWITCH farm's board, whose call
 * events `/services/cti` streams. It lives as long as the subtrees' specs do, outliving the actors' restarts.
 */
export interface GroupBoards {
  farm?: FsFarm;
}

/** Builds a subtree's spec (saved state may be read now); undefined when the group has nothing of that kind. */
type SubtreeBuilder = (
  deps: GroupDeps,
  boards: GroupBoards,
) => Promise<ChildSpec | undefined> | ChildSpec | undefined;

/** The subtrees in start order; they stop in the reverse order. */
const SUBTREES: readonly { id: string; build: SubtreeBuilder }[] = [
  { id: 'domains', build: (d) => domainsChild(d.runtime, d.placement, d.listedDomains) },
  { id: 'mutexes', build: async (d) => mutexesChild(d.mutex, await d.mutex.restoredChildren()) },
  { id: 'pg', build: (d) => pgChild(d) },
  { id: 'backup', build: (d) => backupChild(d) },
  { id: 'freeswitch', build: (d, b) => freeswitchChild(d, b) },
  { id: 'services', build: (d, b) => servicesChild(d, b) },
  { id: 'svctasks', build: (d) => svcTasksChild(d) },
];

/** A service's notice on the node's event stream (and so in its log), from the actor at `path`. */
export function noticeTo(events: EventStream, clock: Clock, path: string): (n: ServiceNotice) => void {
  return (n) => events.emit({ ...n, path, at: clock.wallNow() });
}

export class GroupSubtrees {
  constructor(
    private readonly root: Supervisor,
    private readonly deps: GroupDeps,
  ) {}

  /** Starts the subtrees in order, each built afresh (saved state is read now, not when the node was built). */
  async start(): Promise<void> {
    const boards: GroupBoards = {};
    for (const { build } of SUBTREES) {
      const spec = await build(this.deps, boards);
      if (spec) await this.root.startChild(spec);
    }
  }

  /** Stops every subtree, newest first; a subtree that cannot stop cleanly is still gone afterwards. */
  async stop(): Promise<void> {
    this.deps.mutex.detach();
    for (const { id } of [...SUBTREES].reverse()) {
      if (!this.root.child(id)) continue;
      await this.root.terminateChild(id).catch(() => undefined);
      // Forgotten, not kept stopped: the next leadership starts them afresh, from the state saved meanwhile.
      await this.root.deleteChild(id).catch(() => undefined);
    }
  }
}
