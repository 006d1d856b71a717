import { after, before } from 'node:test';
import type { ActorRuntime } from '../../src/actor-system/actor-child.ts';
import { ComedySystem } from '../../src/actor-system/comedy.ts';
import type { StateAccess } from '../../src/actor-system/incarnation.ts';
import type { Log } from '../../src/log/log.ts';
import { silentLogger } from '../../src/log/log.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import { systemClock } from '../../src/supervision/clock.ts';
import { Directory } from '../../src/supervision/directory.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';
import { EventStream } from '../../src/supervision/events.ts';
import type { RuntimeEnv } from '../../src/supervision/spec.ts';

/** Real comedy actors for tests: a runtime with an in-memory state store and a recorded event stream. */
export interface ActorWorld {
  env: RuntimeEnv;
  runtime: ActorRuntime;
  events: InspectionEvent[];
  saved: Map<string, unknown>;
  /** Resolves with the first event (already seen or to come) that matches. */
  next(match: (e: InspectionEvent) => boolean, timeoutMs?: number): Promise<InspectionEvent>;
}

export interface ActorWorldOptions {
  clock?: Clock;
  liveness?: { intervalMs: number; timeoutMs: number };
  /** Keep every event in `events` (off for benchmarks that count memory). */
  record?: boolean;
  /** The node's logger (silent by default). */
  log?: Log;
}

export function actorWorld(comedy: ComedySystem, opts: ActorWorldOptions = {}): ActorWorld {
  const clock = opts.clock ?? systemClock;
  const liveness = opts.liveness ?? { intervalMs: 5_000, timeoutMs: 5_000 };
  const record = opts.record ?? true;
  const events: InspectionEvent[] = [];
  const stream = new EventStream();
  const waiters: { match: (e: InspectionEvent) => boolean; resolve(e: InspectionEvent): void }[] = [];
  stream.subscribe((e) => {
    if (record) events.push(e);
    for (const w of [...waiters])
      if (w.match(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
  });
  const saved = new Map<string, unknown>();
  const state: StateAccess = {
    durable: true,
    load: async (k) => saved.get(k),
    save: async (k, v) => void saved.set(k, v),
    delete: async (k) => void saved.delete(k),
    keys: async (prefix) => [...saved.keys()].filter((k) => k.startsWith(prefix)),
  };
  const env: RuntimeEnv = {
    clock,
    random: Math.random,
    events: stream,
    directory: new Directory(clock),
    log: opts.log ?? silentLogger(),
  };
  return {
    env,
    runtime: { comedy, state, liveness, startTimeoutMs: 30_000 },
    events,
    saved,
    next: (match, timeoutMs = 15_000) => {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(
                `no matching event in ${timeoutMs} ms; saw: ${events.map((e) => `${e.type} ${e.path}`).join(', ')}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({ match, resolve: (e) => (clearTimeout(t), resolve(e)) });
      });
    },
  };
}

export function newComedy(): ComedySystem {
  return ComedySystem.create(silentLogger());
}

/** One comedy system for a test file: created before its tests, destroyed after them. */
export function sharedComedy(): () => ComedySystem {
  let comedy: ComedySystem | undefined;
  before(() => {
    comedy = newComedy();
  });
  after(async () => {
    await comedy?.destroy();
  });
  return () => {
    if (!comedy) throw new Error('the shared comedy system exists only while the file’s tests run');
    return comedy;
  };
}
