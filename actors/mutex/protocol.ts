import type { LockMode } from './lock-table.ts';

/** Messages of a MutexActor (the API's mutex facade speaks the same shapes). */

export interface LockRequest {
  owner: string;
  /** `write` (exclusive, default) or `read` (shared with readers). */
  mode?: LockMode;
  /** How long to wait in the queue; 0 answers at once. */
  wait_ms?: number;
  /** The guaranteed release time: the grant expires after it regardless. */
  hold_ms?: number;
}

export type LockReply =
  /** `waited`: granted from the queue rather than at once. */
  | { granted: true; token: number; expires_at: number; waited?: true }
  /** `remaining`: holds the owner still has on this key. */
  | { granted: false; reason: 'timeout' | 'released' | 'stopped'; remaining?: number };

export interface UnlockRequest {
  owner: string;
  token: number;
}

/** `remaining`: holds the owner still has on this key. */
export interface UnlockReply {
  released: true;
  remaining: number;
}

export interface MutexInfo {
  key: string;
  holders: { owner: string; mode: LockMode; token: number; expires_at: number }[];
  waiters: { owner: string; mode: LockMode; waited_ms: number }[];
}

export type MutexProtocol = {
  lock: { request: LockRequest; reply: LockReply };
  unlock: { request: UnlockRequest; reply: UnlockReply };
  'release-owner': { request: { owner: string }; reply: { released: number; cancelled: number } };
  inspect: { request: null; reply: MutexInfo; scope: 'read' };
  /** Stop now if idle (the supervisor is near its bound); answers whether it was idle. */
  reap: { request: null; reply: boolean };
};

export const MUTEX_DEFAULTS = {
  holdMs: 60_000,
  maxHoldMs: 24 * 3600_000,
  maxWaitMs: 3600_000,
  idleMs: 30_000,
} as const;
