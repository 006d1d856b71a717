// Run as a separate process by a test: starts a threaded actor, stops it, and must then exit on its own
// (comedy alone leaves the worker thread running, which keeps the process alive).
import { actorChild } from '../../src/actor-system/actor-child.ts';
import { ActorRef } from '../../src/actor-system/actor-ref.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
import { actorWorld, newComedy } from './actor-world.ts';
import type { CounterProtocol } from './counter-actor.ts';
import { counterActor } from './counter-actor.ts';

const comedy = newComedy();
const w = actorWorld(comedy);
const s = new Supervisor(
  '/t',
  compileFlags(),
  [actorChild(w.runtime, { id: 'c', kind: counterActor, args: {}, mode: 'threaded' })],
  w.env,
);
await s.start();
await new ActorRef<CounterProtocol>('/t/c', w.env.directory).ask('inc', 1);
await s.stop('infinity');
await comedy.destroy();
console.log('stopped threaded actor');
