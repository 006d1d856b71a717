import assert from 'node:assert/strict';
import type { ActorContext } from '../../src/actor-system/kind.ts';
import type { Log } from '../../src/log/log.ts';
import { createLogger } from '../../src/log/log.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import { systemClock } from '../../src/supervision/clock.ts';

/**
 * The context an actor is created with, for a test that drives a behaviour directly (no supervisor around it):
 * its saves kept in memory (`saved()`), a silent log unless one is given, and declaring itself failed is a test
 * failure unless `onFail` takes it.
 */
export function testActorContext<S = never>(
  path: string,
  o: {
    clock?: Clock;
    log?: Log;
    restored?: S;
    /** `StateHandle.durable`: true for a role whose `state_mode` is transactional. */
    durable?: boolean;
    onFail?: (error: unknown) => void;
  } = {},
): { context: ActorContext<S>; saved: () => S | undefined } {
  let saved = o.restored;
  return {
    context: {
      path,
      clock: o.clock ?? systemClock,
      log: o.log ?? createLogger({ level: 'silent' }),
      state: {
        restored: o.restored,
        durable: o.durable ?? false,
        save: async (v) => void (saved = structuredClone(v)),
        clear: async () => void (saved = undefined),
      },
      fail: o.onFail ?? ((e) => assert.fail(`${path} declared itself failed: ${String(e)}`)),
      stop: () => {},
    },
    saved: () => saved,
  };
}
