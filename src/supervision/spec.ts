import type { Clock } from './clock.ts';
import type { Directory } from './directory.ts';
import type { ChildMode, EventStream } from './events.ts';
import type { Incarnation } from './incarnation.ts';
import type { Log } from '../log/log.ts';
import type { ActorStats } from './stats.ts';

/**
 * Child specs and supervisor flags in Erlang/OTP's vocabulary (strategy, intensity, period, permanent/transient/
 * temporary, shutdown, significant), plus Akka-style restart backoff and a bounded buffer for messages that
 * arrive while a child restarts. Options are compiled into a fully defaulted form before use.
 */

export type RestartType = 'permanent' | 'transient' | 'temporary';
/** Milliseconds to stop gracefully before the child is killed; `infinity` for sub-supervisors. */
export type Shutdown = number | 'infinity' | 'brutal_kill';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one' | 'simple_one_for_one';
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';

export interface BackoffOptions {
  /** Delay before the second consecutive restart; the first is immediate, as in OTP. */
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ± fraction of the delay, so restarts of many children spread out. */
  jitter: number;
  /** A child that ran this long without failing starts its backoff from scratch. */
  resetAfterMs: number;
}

export interface BufferOptions {
  /** Messages held for a child that is (re)starting; beyond this they fail at once. */
  max: number;
  /** How long a held message may wait for the child before it fails. */
  maxWaitMs: number;
}

/** What a child's start function gets. */
export interface StartContext {
  path: string;
  env: RuntimeEnv;
}

/** Shared by every supervisor of a node. */
export interface RuntimeEnv {
  clock: Clock;
  random: () => number;
  events: EventStream;
  directory: Directory;
  log: Log;
  /** Message counts and latency samples per actor kind, for metrics. */
  stats?: ActorStats;
}

export interface ChildSpec {
  /** Name under the supervisor; with the supervisor's path it forms the child's path. */
  id: string;
  /** Actor kind (for inspection and metrics: never the id). */
  kind: string;
  mode: ChildMode;
  start(ctx: StartContext): Promise<Incarnation>;
  restart: RestartType;
  shutdown: Shutdown;
  significant?: boolean;
  backoff?: Partial<BackoffOptions>;
  buffer?: Partial<BufferOptions>;
  /**
   * A child that ended normally is started again when a message arrives for it (activation on demand: an idle
   * mutex stops, the next lock brings it back with its saved state).
   */
  reviveOnMessage?: boolean;
}

export interface SupervisorFlags {
  strategy: Strategy;
  /** At most `intensity` restarts in `periodMs`; one more and the supervisor gives up (escalation). */
  intensity: number;
  periodMs: number;
  autoShutdown: AutoShutdown;
  /** Children at most (a dynamic supervisor's bound: one more is refused with SupervisorFull). */
  maxChildren: number;
  backoff: BackoffOptions;
  buffer: BufferOptions;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 100,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
  resetAfterMs: 10_000,
};
export const DEFAULT_BUFFER: BufferOptions = { max: 1000, maxWaitMs: 5_000 };

/** OTP's defaults: one restart in five seconds. */
export function compileFlags(
  flags: Partial<Omit<SupervisorFlags, 'backoff' | 'buffer'>> & {
    backoff?: Partial<BackoffOptions>;
    buffer?: Partial<BufferOptions>;
  } = {},
): SupervisorFlags {
  const out: SupervisorFlags = {
    strategy: flags.strategy ?? 'one_for_one',
    intensity: flags.intensity ?? 1,
    periodMs: flags.periodMs ?? 5_000,
    autoShutdown: flags.autoShutdown ?? 'never',
    maxChildren: flags.maxChildren ?? Infinity,
    backoff: { ...DEFAULT_BACKOFF, ...flags.backoff },
    buffer: { ...DEFAULT_BUFFER, ...flags.buffer },
  };
  if (!Number.isInteger(out.intensity) || out.intensity < 0)
    throw new RangeError('intensity must be a whole number >= 0');
  if (!(out.periodMs > 0)) throw new RangeError('periodMs must be > 0');
  if (!(out.maxChildren >= 1)) throw new RangeError('maxChildren must be >= 1');
  return out;
}
