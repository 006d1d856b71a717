import type { z } from 'zod';
import type { TokenScope } from '../../topology/schema.ts';
import { serializeError } from '../errors.ts';
import type { NodeState } from '../node/lifecycle.ts';
import type { Principal } from './auth.ts';
import type { ApiContext } from './context.ts';
import { treeFor } from './disclosure.ts';
import { ClusterTreeNode } from './schemas.ts';
import type { ClusterTree } from './schemas.ts';

/**
 * The whole cluster's tree (issue 7, "Routing": `tree`, `GET /api/v1/tree?scope=cluster` and `/ui` show every
 * node, not only the one asked): every mware instance of the topology reports itself over the node channel — its
 * role, state, supervision tree and counters — with the disclosure rules for the caller's principal applied where
 * the tree lives. A node that does not answer in time is listed with an error: one dead node must not hide the rest.
 */

/** How long each node is given to answer (all are asked at once). */
export const NODE_TREE_TIMEOUT_MS = 2_000;

type NodeReport = z.infer<typeof ClusterTreeNode>;

function roleOf(state: NodeState): NodeReport['role'] {
  switch (state) {
    case 'active':
      return 'active';
    case 'passive':
      return 'passive';
    case 'starting':
    case 'joining':
    case 'draining':
    case 'stopped':
    case 'failed':
      return 'unknown';
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** This node's own entry, as `principal` may see it (also the answer to a forwarded `{op: 'tree'}`). */
export function nodeReport(ctx: ApiContext, principal: Principal | null): NodeReport {
  const state = ctx.state();
  return {
    name: ctx.nodeName,
    group: ctx.group,
    role: roleOf(state),
    state,
    self: true,
    tree: treeFor(principal, ctx.tree()),
    stats: ctx.metrics.snapshot(),
  };
}

/** Every node of the cluster, this one first; asked in parallel, each within {@link NODE_TREE_TIMEOUT_MS}. */
export async function clusterTree(
  ctx: ApiContext,
  principal: Principal,
  timeoutMs = NODE_TREE_TIMEOUT_MS,
): Promise<z.infer<typeof ClusterTree>> {
  const others = ctx.routing.nodes().filter((n) => n.name !== ctx.nodeName);
  const forwarded = {
    op: 'tree' as const,
    principal: { name: principal.name, scopes: [...principal.scopes] as TokenScope[] },
    hops: 1,
  };
  const remote = await Promise.all(
    others.map(async (n): Promise<NodeReport> => {
      try {
        const answer = ClusterTreeNode.parse(await ctx.routing.askNode(n.name, forwarded, timeoutMs));
        return { ...answer, name: n.name, self: false };
      } catch (err) {
        const e = serializeError(err);
        return {
          name: n.name,
          group: n.group,
          role: 'unknown',
          state: null,
          self: false,
          error: { code: e.code, message: ctx.scrub(e.message) },
        };
      }
    }),
  );
  return { cluster: ctx.cluster, nodes: [nodeReport(ctx, principal), ...remote] };
}
