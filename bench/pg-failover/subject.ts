/**
 * What the PostgreSQL failover benchmark (bench/pg-failover/run.ts) needs from a system that fails a PostgreSQL
 * pair over: Patroni (./patroni.ts) and mware's pg_controller (./mware.ts) both implement it, and the same
 * measurement client (./client.ts) is run against each.
 *
 * The contract, in the order the runner calls it:
 * - `setup()` once: a healthy pair — one primary accepting writes, one standby streaming from it — reachable on
 *   127.0.0.1 at `endpoints()` as the superuser `postgres` (database `postgres`) with trust authentication or
 *   `connection().password`;
 * - per trial: `primary()` names the current primary (one of `endpoints()`); `arm(kind)` does every slow
 *   preparation (finding pids…) and returns a trigger, a synchronous function that injects the failure at once
 *   (the client takes the kill instant right before calling it); the client then writes until a server commits;
 * - `restoreAfterTrial()` after every trial, whatever its outcome: back to a healthy pair with a streaming standby
 *   (the primary may be either server; a subject may also rebuild the pair from scratch);
 * - `teardown()` once, also after a failure: nothing it started may be left running.
 */

/** The failures a trial injects, always on the current primary. */
export type FailureKind =
  /** The primary's postmaster gets SIGKILL; its host stays up (the agent on it, SSH, … keep running). */
  | 'postmaster-kill'
  /** The primary's host is lost: its postmaster, every postgres process and the agent on it get SIGKILL at once. */
  | 'host-lost';

export const FAILURE_KINDS: readonly FailureKind[] = ['postmaster-kill', 'host-lost'];

export const FAILURE_LABEL: Record<FailureKind, string> = {
  'postmaster-kill': 'postmaster SIGKILL, host alive',
  'host-lost': 'host lost (postmaster + agent SIGKILL)',
};

export interface FailoverSubject {
  /** Short, as subjects are chosen on the command line: `patroni-default`, `patroni-tuned`, `mware`. */
  readonly name: string;
  /** One line saying how it is configured (timeouts and the like), printed once by the runner. */
  describe(): string;
  setup(): Promise<void>;
  /** `host:port` of each PostgreSQL server of the pair, fixed from `setup()` on. */
  endpoints(): string[];
  /** Connection settings beyond host:port; the client defaults to user/database `postgres`, no password. */
  connection?(): { user?: string; password?: string; database?: string };
  /** The endpoint of the current primary (the server the failure is injected on). */
  primary(): Promise<string>;
  /** Prepares `kind` on the current primary; the returned trigger must inject it synchronously. */
  arm(kind: FailureKind): Promise<() => void>;
  /** Back to a healthy pair with a streaming standby (after every trial, also a failed one). */
  restoreAfterTrial(): Promise<void>;
  /** Stops everything it started (idempotent). */
  teardown(): Promise<void>;
}
