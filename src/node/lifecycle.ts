/**
 * A node's lifecycle (02-runtime.md "Node lifecycle"):
 * `starting → joining → passive | active → draining → stopped`, or `failed`.
 */
export type NodeState = 'starting' | 'joining' | 'passive' | 'active' | 'draining' | 'stopped' | 'failed';

const NEXT: Record<NodeState, readonly NodeState[]> = {
  starting: ['joining', 'draining', 'failed'],
  joining: ['passive', 'active', 'draining', 'failed'],
  passive: ['active', 'draining', 'failed'],
  active: ['passive', 'draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: ['stopped'],
};

export function canMove(from: NodeState, to: NodeState): boolean {
  return NEXT[from].includes(to);
}
