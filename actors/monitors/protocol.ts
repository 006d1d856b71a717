import type { Deviation } from '../../src/monitor/deviation.ts';

/** Messages of a monitor, the actors at `/services/monitors/<name>`. */

export interface ObservedCondition {
  key: string;
  failing: boolean;
  /** Consecutive failing rounds (a deviation is raised at `confirm`). */
  failures: number;
  raised: boolean;
  message: string;
}

export interface MonitorStatus {
  name: string;
  kind: 'names' | 'megaco' | 'fsync' | 'sg';
  interval_ms: number;
  confirm: number;
  rounds: number;
  /** ISO 8601 end of the last round, null before the first. */
  last_round: string | null;
  last_round_ms: number | null;
  /** Every condition the last round looked at. */
  conditions: ObservedCondition[];
  /** Kind-specific: fsync lags, sg deletions (`deleted_total`, `purges`), … */
  detail: Record<string, unknown>;
}

export type MonitorProtocol = {
  deviations: { request: null; reply: Deviation[]; scope: 'read' };
  status: { request: null; reply: MonitorStatus; scope: 'read' };
  /** Runs a round now (after the one under way, if any) and answers the status it leaves. */
  check: { request: null; reply: MonitorStatus; scope: 'admin' };
};
