import type { SerializedError } from '../errors.ts';
import type { TreeNode } from './tree.ts';
import type { Shutdown } from './spec.ts';

/**
 * One running life of a child (an actor or a sub-supervisor) between a start and an exit. Supervisors see
 * every child through this interface.
 */

export type ExitReason =
  /** The child ended its work by itself (an idle mutex, say). */
  | { kind: 'normal' }
  /** The child was stopped by its supervisor or an operator. */
  | { kind: 'shutdown' }
  /** The child crashed; its supervisor decides what happens next. */
  | { kind: 'failed'; error: SerializedError };

export interface Incarnation {
  /** Settles once, when the incarnation is over. */
  readonly exited: Promise<ExitReason>;
  /** Stops gracefully within `shutdown`, then forcibly; resolves when it is gone. */
  stop(shutdown: Shutdown): Promise<void>;
  /** Ends it at once. */
  kill(): void;
  readonly pid?: number;
  /** True once it takes no more messages (failed, or a stop is under way) even if its exit is not yet handled. */
  readonly ending?: boolean;
  /** Requests taken but not yet answered. */
  mailbox(): number;
  /** Actors take messages; supervisors do not. */
  deliver?(type: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  /** Registers a callback for when the incarnation starts ending by itself (a normal stop is under way). */
  onWindDown?(listener: () => void): void;
  /** Sub-supervisors describe their subtree. */
  inspectChildren?(): TreeNode[];
  readonly strategy?: string;
  /** Sub-supervisors: how many children they have, their bound, and how many starts the bound refused. */
  capacity?(): { children: number; max: number; refused: number };
}
