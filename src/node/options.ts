import type { DestinationStream } from 'pino';
import type { Log } from '../log/log.ts';
import type { Clock } from '../supervision/clock.ts';

/** How `mware start` (or a test) asks for a node. */

export const DEFAULT_TOPOLOGY = 'config/topology.example.yaml';

export interface NodeOptions {
  topologyFile: string;
  /** Role instance to run; may be omitted when the file has exactly one enabled mware instance. */
  role?: string;
  dataDir?: string;
  logPretty?: boolean;
  /** Where the node's log lines go (stdout when absent), and from which level. */
  logDestination?: DestinationStream;
  logLevel?: string;
  /** A logger of the caller's own instead (tests, benchmarks): it must scrub secrets itself. */
  log?: Log;
  clock?: Clock;
  /** Mutex actors stop after this long idle (default 30 s). */
  mutexIdleMs?: number;
}
