import type { ActorMode } from '../supervision/events.ts';
import type { BackoffOptions, BufferOptions, ChildSpec, RestartType, Shutdown } from '../supervision/spec.ts';
import type { ComedySystem } from './comedy.ts';
import type { LivenessOptions, StateAccess } from './incarnation.ts';
import { ActorIncarnation } from './incarnation.ts';
import type { AnyActorKind, ArgsOf } from './kind.ts';

/** What every actor child of a node shares: the comedy system and the state store. */
export interface ActorRuntime {
  comedy: ComedySystem;
  state: StateAccess;
  liveness: LivenessOptions;
  startTimeoutMs: number;
}

export const DEFAULT_LIVENESS: LivenessOptions = { intervalMs: 5_000, timeoutMs: 5_000 };

export interface ActorChildOptions<K> {
  id: string;
  kind: K;
  args: ArgsOf<K>;
  mode: ActorMode;
  restart?: RestartType;
  shutdown?: Shutdown;
  significant?: boolean;
  backoff?: Partial<BackoffOptions>;
  buffer?: Partial<BufferOptions>;
  reviveOnMessage?: boolean;
}

/** A child spec whose incarnations are actors of `kind` (workers, in OTP terms). */
export function actorChild<K extends AnyActorKind>(rt: ActorRuntime, o: ActorChildOptions<K>): ChildSpec {
  return {
    id: o.id,
    kind: o.kind.kind,
    mode: o.mode,
    restart: o.restart ?? 'permanent',
    shutdown: o.shutdown ?? 5_000,
    significant: o.significant,
    backoff: o.backoff,
    buffer: o.buffer,
    reviveOnMessage: o.reviveOnMessage,
    start: ({ path, env }) =>
      ActorIncarnation.spawn({
        comedy: rt.comedy,
        state: rt.state,
        kind: o.kind,
        args: o.args,
        mode: o.mode,
        path,
        clock: env.clock,
        log: lazy(() => env.log.child({ path })),
        liveness: rt.liveness,
        startTimeoutMs: rt.startTimeoutMs,
      }),
  };
}

/** A value built on first use (a child logger costs an allocation most actors never need). */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
