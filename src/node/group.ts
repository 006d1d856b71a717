import type { MutexService } from '../../actors/mutex/mutex-service.ts';
import { domainsChild } from '../../supervisors/domains.ts';
import { mutexesChild } from '../../supervisors/mutexes.ts';
import type { Placement } from '../../topology/placement.ts';
import type { ActorRuntime } from '../actor-system/actor-child.ts';
import type { ChildSpec } from '../supervision/spec.ts';
import type { Supervisor } from '../supervision/supervisor.ts';

/**
 * The group's subtrees: what runs only on the active instance of a group (00-overview.md "The actor tree"). They
 * start in order once the node leads its group, their saved state restored first, and stop newest first when it
 * stops leading, every side effect with them.
 */
export class GroupSubtrees {
  constructor(
    private readonly root: Supervisor,
    private readonly runtime: ActorRuntime,
    private readonly placement: Placement,
    private readonly listedDomains: readonly string[],
    private readonly mutex: MutexService,
  ) {}

  /** The subtrees in start order, built afresh (saved state is read now, not when the node was built). */
  private async specs(): Promise<ChildSpec[]> {
    return [
      domainsChild(this.runtime, this.placement, this.listedDomains),
      mutexesChild(this.mutex, await this.mutex.restoredChildren()),
    ];
  }

  async start(): Promise<void> {
    for (const spec of await this.specs()) await this.root.startChild(spec);
  }

  /** Stops every subtree, newest first; a subtree that cannot stop cleanly is still gone afterwards. */
  async stop(): Promise<void> {
    this.mutex.detach();
    for (const id of ['mutexes', 'domains']) {
      if (!this.root.child(id)) continue;
      await this.root.terminateChild(id).catch(() => undefined);
      // Forgotten, not kept stopped: the next leadership starts them afresh, from the state saved meanwhile.
      await this.root.deleteChild(id).catch(() => undefined);
    }
  }
}
