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

/**
 * Who hears of an incarnation's end: its supervisor's record of the child. One observer per incarnation, with
 * methods (not a callback per event), so that watching a child costs a pointer, not closures and arrays, which
 * count at tens of thousands of actors.
 */
export interface IncarnationObserver {
  /** Called once when `inc` is over, never synchronously from the call that ended it. */
  exited(inc: Incarnation, reason: ExitReason): void;
  /** `inc` has begun to end by itself (a normal stop is under way); its exit follows. */
  windingDown(inc: Incarnation): void;
}

export interface Incarnation {
  /**
   * Sets the one observer of this incarnation (its supervisor does, once it has it). An incarnation that ended
   * before it was watched reports its exit to the observer all the same.
   */
  watch(observer: IncarnationObserver): void;
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
  /** Sub-supervisors describe their subtree. */
  inspectChildren?(): TreeNode[];
  /** An actor's report of its work failing while it runs on (see `Behavior.problem`). */
  problem?(): SerializedError | undefined;
  readonly strategy?: string;
  /** Sub-supervisors: how many children they have, their bound, and how many starts the bound refused. */
  capacity?(): { children: number; max: number; refused: number };
}

/** Tells `observer` of the exit in a later microtask, as a promise's `then` would: after the ending call returns. */
export function reportExit(observer: IncarnationObserver, inc: Incarnation, reason: ExitReason): void {
  queueMicrotask(() => observer.exited(inc, reason));
}
