import type { SerializedError } from '../errors.ts';
import type { ChildMode, ChildState } from './events.ts';

/** A node of the inspected supervision tree (what the shell, the web view and /api/v1/tree show). */
export interface TreeNode {
  path: string;
  id: string;
  kind: string;
  mode: ChildMode;
  state: ChildState;
  restarts: number;
  /** Wall-clock times of the latest restarts, newest last. */
  restartTimes: number[];
  lastError?: SerializedError;
  mailbox: number;
  pid?: number;
  /** Wall-clock time the current incarnation started. */
  startedAt?: number;
  strategy?: string;
  children?: TreeNode[];
}
