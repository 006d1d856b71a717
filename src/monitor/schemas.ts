import { z } from 'zod';
import type { Deviation } from './deviation.ts';

/**
 * The system state's shapes, parsed where they enter a node (a peer's answer, a service's `deviations` reply) and
 * documented by the API (`GET /api/monitor/v1/system/state`).
 */

export const DeviationSchema = z.strictObject({
  source: z.string().min(1),
  kind: z.string().min(1),
  severity: z.enum(['warning', 'critical']),
  since: z.string().min(1),
  message: z.string(),
  node: z.string().optional(),
  site: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
}) satisfies z.ZodType<Deviation>;

/** What a service answers to `deviations`. */
export const DeviationList = z.array(DeviationSchema);

export const NodeRole = z.enum(['active', 'passive', 'unknown']);

/** One node's own deviations and how it stands (the answer to a forwarded `{op: 'deviations'}`). */
export const NodeDeviationsSchema = z.strictObject({
  node: z.string(),
  site: z.string(),
  group: z.int(),
  role: NodeRole,
  state: z.string(),
  deviations: DeviationList,
});
export type NodeDeviations = z.infer<typeof NodeDeviationsSchema>;

export const SystemStateSchema = z.strictObject({
  cluster: z.string(),
  /** The node that collected it. */
  collected_by: z.string(),
  collected_at: z.string(),
  /** No deviation at all. */
  healthy: z.boolean(),
  deviations: DeviationList,
  nodes: z.array(
    z.strictObject({
      name: z.string(),
      site: z.string(),
      group: z.int(),
      role: NodeRole,
      reachable: z.boolean(),
    }),
  ),
});
export type SystemState = z.infer<typeof SystemStateSchema>;
