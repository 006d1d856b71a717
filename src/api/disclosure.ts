import type { CoordinationEvent } from '../coordination/backend.ts';
import type { SerializedError } from '../errors.ts';
import type { InspectionEvent } from '../supervision/events.ts';
import type { TreeNode } from '../supervision/tree.ts';
import type { SystemState } from '../monitor/schemas.ts';
import type { Principal } from './auth.ts';

/**
 * What a caller may learn of an actor's failure. The text of a crash is whatever the failing code put in it (a
 * query, a host name, a path on disk), so only admins see it, in the tree, an actor's details and the event
 * stream; every other token sees the failure's name, its stable code and a plain sentence. The whole error always
 * goes to the node's log. The same holds for why coordination is unhealthy (a Redis error names its host and port):
 * every token sees that it is, admins see why.
 */

const PLAIN = 'the actor failed; the node’s log (or an admin’s view of the tree) has the details';

export function seesFailureDetails(p: Principal | null): boolean {
  return p?.scopes.has('admin') === true;
}

/** A failure as a caller without `admin` sees it: name and code kept, no message text, no cause. */
export function plainError(e: SerializedError): SerializedError {
  return { name: e.name, code: e.code, message: PLAIN };
}

export function treeFor(p: Principal | null, node: TreeNode): TreeNode {
  return seesFailureDetails(p) ? node : plainTree(node);
}

function plainTree(node: TreeNode): TreeNode {
  if (!node.lastError && !node.children) return node;
  const out: TreeNode = { ...node };
  if (node.lastError) out.lastError = plainError(node.lastError);
  if (node.children) out.children = node.children.map(plainTree);
  return out;
}

export function eventFor(p: Principal | null, e: InspectionEvent): InspectionEvent {
  if (seesFailureDetails(p)) return e;
  switch (e.type) {
    case 'failed':
    case 'escalated':
      return { ...e, error: plainError(e.error) };
    case 'started':
    case 'stopped':
    case 'restarted':
    case 'state-changed':
    case 'notice':
      return e;
    default: {
      const never: never = e;
      return never;
    }
  }
}

export function coordinationEventFor(p: Principal | null, e: CoordinationEvent): CoordinationEvent {
  if (seesFailureDetails(p) || e.type !== 'health') return e;
  return { type: 'health', healthy: e.healthy };
}

/**
 * The system state as `p` may see it: a deviation's `details.error` (the text of an actor's failure, of a peer's or a
 * service's error) for admins only, like a crash's text in the tree.
 */
export function systemStateFor(p: Principal | null, s: SystemState): SystemState {
  if (seesFailureDetails(p)) return s;
  return {
    ...s,
    deviations: s.deviations.map((d) => {
      if (d.details?.['error'] === undefined) return d;
      const { error: _hidden, ...details } = d.details;
      return { ...d, details };
    }),
  };
}

/** The coordination part of the cluster view: its detail for admins only. */
export function coordinationFor<T extends { detail?: string }>(p: Principal | null, c: T): T {
  if (seesFailureDetails(p) || c.detail === undefined) return c;
  const { detail: _hidden, ...rest } = c;
  return rest as T;
}
