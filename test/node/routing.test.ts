import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardedRequest } from '../../src/api/forwarding.ts';
import type { NodeState } from '../../src/node/lifecycle.ts';
import { NodeRouting } from '../../src/node/routing.ts';
import type { ClusterRuntime } from '../../src/node/cluster-runtime.ts';
import type { CoordinationBackend } from '../../src/coordination/backend.ts';
import { systemClock } from '../../src/supervision/clock.ts';
import type { Placement } from '../../topology/placement.ts';
import type { Topology } from '../../topology/schema.ts';

/**
 * A request waiting for its group's new active instance during a takeover, when the node holding it is the one that
 * takes over: it is served here at once, not held until its deadline (issue 7: requests in flight during a takeover
 * wait, bounded, for the new active).
 */

describe('routing during a takeover', () => {
  it('serves a waiting request here as soon as this node becomes the group’s active instance', async () => {
    let state: NodeState = 'passive';
    let leading = false;
    // Redis names this node as the holder as soon as it has taken the lease, before it acts as active.
    const cluster = {
      coordination: { holderOf: async () => ({ holder: 'mware2', epoch: 2 }) },
      channel: { request: async () => assert.fail('never forwarded to itself') },
    } as unknown as ClusterRuntime;
    const routing = new NodeRouting({
      topology: {} as Topology,
      placement: { group: 7, role: { name: 'mware2' } } as unknown as Placement,
      state: () => state,
      coordination: { leading: () => leading } as unknown as CoordinationBackend,
      cluster,
      clock: systemClock,
    });
    setTimeout(() => {
      state = 'active';
      leading = true;
    }, 200);
    const t0 = performance.now();
    const r = await routing.forward(7, {} as ForwardedRequest, 10_000, async () => 'served here');
    const took = performance.now() - t0;
    assert.equal(r, 'served here');
    assert.ok(took < 2_000, `served ${Math.round(took)} ms after it arrived, not at its deadline`);
  });
});

describe('where a path belongs', () => {
  it('gives the group’s controllers (/pg, /backup) and farm (/freeswitch) to the node’s group, so a passive node forwards them', () => {
    const routing = new NodeRouting({
      topology: {} as Topology,
      placement: { group: 7, role: { name: 'mware2' } } as unknown as Placement,
      state: () => 'passive',
      coordination: { leading: () => false } as unknown as CoordinationBackend,
      cluster: undefined,
      clock: systemClock,
    });
    for (const path of [
      '/pg',
      '/pg/general',
      '/pg/general/controller',
      '/pg/general/db1:5441',
      '/backup',
      '/freeswitch',
      '/freeswitch/migrator',
      '/freeswitch/hosts/fs01',
    ])
      assert.equal(routing.groupOfPath(path), 7, path);
    // The node's own actors stay its own.
    assert.equal(routing.groupOfPath('/cluster'), undefined);
    assert.equal(routing.groupOfPath('/api'), undefined);
  });
});
