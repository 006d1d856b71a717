/**
 * A deviation from a healthy system (06-services.md, "System state"): something an operator should look at. The
 * system state (`GET /api/monitor/v1/system/state`) is the list of every node's current deviations; empty means
 * healthy. A service that can detect one (a monitor, the ACME service, a controller) answers the actor message
 * `deviations` with its current list; the collector adds the node and the site.
 */
export type DeviationSeverity = 'warning' | 'critical';

export interface Deviation {
  /** What raised it, as an actor path or a service name: `/services/acme`, `/services/monitors/megaco`. */
  source: string;
  /** A stable kind, for a bot or a script to tell deviations apart: `cert-expiring`, `name-missing`, `cpu-load`. */
  kind: string;
  severity: DeviationSeverity;
  /** ISO 8601: since when it holds (kept across polls while it holds, so a bot can tell new from old). */
  since: string;
  /** One line for a human, naming the thing concerned; never a secret. */
  message: string;
  /** Filled in by the collector. */
  node?: string;
  site?: string;
  /**
   * Free details (numbers, names) for the web view and the API; no secret. `error`, an error's text, is shown to
   * admin tokens only (it may name a query, a host, a path), as a crash's text in the tree is.
   */
  details?: Record<string, unknown>;
}

/** The key telling two deviations apart across polls (a bot announces a new key and a key gone). */
export function deviationKey(d: Deviation): string {
  return `${d.node ?? ''}|${d.source}|${d.kind}|${d.message}`;
}
