import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardedRequest } from '../../src/api/forwarding.ts';
import type { NodeState } from '../../src/node/lifecycle.ts';
import { NodeRouting } from '../../src/node/routing.ts';
import type { ClusterRuntime } from '../../src/node/cluster-runtime.ts';
import type { CoordinationBackend } from '../../src/coordination/backend.ts';
import { systemClock } from '../../src/supervision/clock.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import { NotReady } from '../../src/api/errors.ts';
import { PeerLost } from '../../src/cluster/errors.ts';
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

describe('routing while no active instance answers', () => {
  it('never sends a retry with next to no time left: the caller hears MW_ERR_NOT_READY, not a lost request', async () => {
    // A loaded machine: every pause overruns by 48 ms, so a retry can find ~12 ms left of its deadline.
    let now = 0;
    const lateClock: Clock = {
      now: () => now,
      wallNow: () => now,
      setTimeout: (fn, ms) => {
        now += ms + 48;
        setImmediate(fn);
        return { __timer: true };
      },
      clearTimeout: () => undefined,
    };
    const deadlines: number[] = [];
    const cluster = {
      coordination: { holderOf: async () => ({ holder: 'mware1', epoch: 2 }) },
      channel: {
        request: async (_to: string, _r: unknown, deadlineMs: number) => {
          deadlines.push(deadlineMs);
          // Too little time to be answered: the channel cannot tell whether it was handled.
          if (deadlineMs < 20)
            throw new PeerLost('mware1 did not answer (the request may have been handled)');
          throw new NotReady('mware1 is passive, not active');
        },
      },
    } as unknown as ClusterRuntime;
    const routing = new NodeRouting({
      topology: {} as Topology,
      placement: { group: 7, role: { name: 'mware2' } } as unknown as Placement,
      state: () => 'passive',
      coordination: { leading: () => false } as unknown as CoordinationBackend,
      cluster,
      clock: lateClock,
    });
    const err = await routing
      .forward(7, {} as ForwardedRequest, 600, async () => 'never here')
      .then(
        () => assert.fail('served'),
        (e: unknown) => e,
      );
    assert.equal((err as { code?: string }).code, 'MW_ERR_NOT_READY', String(err));
    assert.ok(deadlines.length > 1, 'retried while waiting');
    assert.ok(Math.min(...deadlines) >= 50, `a retry went out with ${Math.min(...deadlines)} ms left`);
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
      '/services',
      '/services/acme',
    ])
      assert.equal(routing.groupOfPath(path), 7, path);
    // The node's own actors stay its own.
    assert.equal(routing.groupOfPath('/cluster'), undefined);
    assert.equal(routing.groupOfPath('/api'), undefined);
  });
});
