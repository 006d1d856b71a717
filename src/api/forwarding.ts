import { z } from 'zod';
import { TokenScope } from '../../topology/schema.ts';
import type { TokenScope as Scope } from '../../topology/schema.ts';

/**
 * Location transparency (02-runtime.md "Routing"): any node takes a request for any actor or mutex key; if the
 * group that owns it is led elsewhere, the request is carried to that group's active instance over the node
 * channel and run there exactly as if it had arrived there — same validation, same scopes (the caller's, which
 * the entry node authenticated), same answer.
 */

export interface ForwardedPrincipal {
  name: string;
  scopes: Scope[];
}

export type ForwardedRequest =
  | {
      op: 'message';
      path: string;
      type: string;
      payload: unknown;
      ask: boolean;
      timeoutMs: number;
      principal: ForwardedPrincipal;
      /** Nodes the request has crossed (a forwarded request is never forwarded again: see MAX_HOPS). */
      hops: number;
    }
  | {
      op: 'mutex';
      method: 'lock' | 'unlock' | 'inspect' | 'release-owner';
      key: string;
      body: unknown;
      principal: ForwardedPrincipal;
      hops: number;
    }
  | {
      /** This node's own report for the whole-cluster tree: its role, state, tree and counters. */
      op: 'tree';
      principal: ForwardedPrincipal;
      hops: number;
    }
  | {
      /** This node's own deviations for the system state (src/monitor/collector.ts). */
      op: 'deviations';
      principal: ForwardedPrincipal;
      hops: number;
    }
  | {
      /**
       * A service task's firing carried to this node's site runner by another site's scheduler. Only a peer node
       * sends it (over the authenticated node channel): no API token reaches the runner.
       */
      op: 'run-job';
      job: unknown;
      timeoutMs: number;
      principal: ForwardedPrincipal;
      hops: number;
    };

/** A request crosses at most this many nodes; beyond it is a loop made by nodes that disagree on the topology. */
export const MAX_HOPS = 1;

/** Where a request is served: this node, or the active instance of another group (or of this one, elsewhere). */
export interface Routing {
  /** The group that owns an actor path, or undefined for a node's own actors (`/cluster`, `/api`). */
  groupOfPath(path: string): number | undefined;
  groupOfMutexKey(key: string): number;
  /** Every mware instance of the topology (this node included) and its group, in the file's order. */
  nodes(): readonly { name: string; group: number }[];
  /**
   * Runs `request` on the node `name` itself (not on its group's active instance): no retry, no waiting for a
   * takeover. Refused on a node without a node channel (no cluster).
   */
  askNode(name: string, request: ForwardedRequest, timeoutMs: number): Promise<unknown>;
  /** The groups of this node's site among which mutex keys are split. */
  mutexGroups(): readonly number[];
  /** True when this node is `group`'s active instance now. */
  servesHere(group: number): boolean;
  /**
   * Runs `request` on the active instance of `group`, waiting (until `timeoutMs`) for one to be known during a
   * takeover; retried only while it certainly reached no actor. If this node becomes that active instance
   * meanwhile (it took over), the request runs here, by `here`.
   */
  forward(
    group: number,
    request: ForwardedRequest,
    timeoutMs: number,
    here: () => Promise<unknown>,
  ): Promise<unknown>;
}

const Principal = z.strictObject({ name: z.string(), scopes: z.array(TokenScope) });

/** A forwarded request as it arrives from a peer: checked again at the edge, though the peer is authenticated. */
export const ForwardedRequestSchema: z.ZodType<ForwardedRequest> = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('message'),
    path: z.string(),
    type: z.string(),
    payload: z.unknown().optional(),
    ask: z.boolean(),
    timeoutMs: z.int().min(1).max(300_000),
    principal: Principal,
    hops: z.int().min(0),
  }),
  z.strictObject({
    op: z.literal('mutex'),
    method: z.enum(['lock', 'unlock', 'inspect', 'release-owner']),
    key: z.string(),
    body: z.unknown().optional(),
    principal: Principal,
    hops: z.int().min(0),
  }),
  z.strictObject({ op: z.literal('tree'), principal: Principal, hops: z.int().min(0) }),
  z.strictObject({ op: z.literal('deviations'), principal: Principal, hops: z.int().min(0) }),
  z.strictObject({
    op: z.literal('run-job'),
    job: z.unknown(),
    timeoutMs: z
      .int()
      .min(1)
      .max(86_400_000 + 60_000),
    principal: Principal,
    hops: z.int().min(0),
  }),
]) as z.ZodType<ForwardedRequest>;
