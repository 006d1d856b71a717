import type { ActorMode } from '../supervision/events.ts';
import type { Incarnation } from '../supervision/incarnation.ts';
import type {
  BackoffOptions,
  BufferOptions,
  ChildSpec,
  RestartType,
  Shutdown,
  StartContext,
} from '../supervision/spec.ts';
import type { ComedySystem } from './comedy.ts';
import type { LivenessOptions, StateAccess } from './incarnation.ts';
import { ActorIncarnation } from './incarnation.ts';
import type { AnyActorKind, ArgsOf } from './kind.ts';
import { LocalActor } from './local-actor.ts';

/** What every actor child of a node shares: the comedy system (for forked and threaded actors) and the state store. */
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

/**
 * A child spec whose incarnations are actors of one kind (workers, in OTP terms). A class, so that its start
 * lives once on the prototype rather than as a closure per child; options left out are not stored at all.
 */
export class ActorChildSpec implements ChildSpec {
  readonly id: string;
  readonly mode: ActorMode;
  readonly restart: RestartType;
  readonly shutdown: Shutdown;
  readonly actor: AnyActorKind;
  readonly args: unknown;
  declare readonly significant?: boolean;
  declare readonly backoff?: Partial<BackoffOptions>;
  declare readonly buffer?: Partial<BufferOptions>;
  declare readonly reviveOnMessage?: boolean;

  constructor(
    readonly runtime: ActorRuntime,
    o: ActorChildOptions<AnyActorKind>,
  ) {
    this.id = o.id;
    this.mode = o.mode;
    this.restart = o.restart ?? 'permanent';
    this.shutdown = o.shutdown ?? 5_000;
    this.actor = o.kind;
    this.args = o.args;
    const optional = this as { -readonly [P in keyof ActorChildSpec]: ActorChildSpec[P] };
    if (o.significant !== undefined) optional.significant = o.significant;
    if (o.backoff !== undefined) optional.backoff = o.backoff;
    if (o.buffer !== undefined) optional.buffer = o.buffer;
    if (o.reviveOnMessage !== undefined) optional.reviveOnMessage = o.reviveOnMessage;
  }

  /** The actor kind's name (for inspection and metrics). */
  get kind(): string {
    return this.actor.kind;
  }

  start({ path, env }: StartContext): Promise<Incarnation> {
    if (this.mode === 'in-memory') return LocalActor.start(this, path, env);
    const rt = this.runtime;
    return ActorIncarnation.spawn({
      comedy: rt.comedy,
      state: rt.state,
      kind: this.actor,
      args: this.args,
      mode: this.mode,
      path,
      clock: env.clock,
      log: lazy(() => env.log.child({ path })),
      liveness: rt.liveness,
      startTimeoutMs: rt.startTimeoutMs,
    });
  }
}

/** A child spec whose incarnations are actors of `kind`. */
export function actorChild<K extends AnyActorKind>(rt: ActorRuntime, o: ActorChildOptions<K>): ChildSpec {
  return new ActorChildSpec(rt, o);
}

/** A value built on first use (a child logger costs an allocation most actors never need). */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
