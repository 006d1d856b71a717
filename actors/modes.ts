import type { ActorMode } from '../src/supervision/events.ts';

/**
 * The one place that says how each actor kind runs (02-runtime.md): in the node's process unless its work can
 * block or crash the process (heavy parsing, third-party native code), then in a forked process or a thread.
 */
export const ACTOR_MODES = {
  /** Holds the node's listener and its context: always in the node's process. */
  api: 'in-memory',
  /** Waits on SSH and rsync; holds functions (its notices) in its arguments. */
  backup: 'in-memory',
  cluster: 'in-memory',
  domain: 'in-memory',
  mutex: 'in-memory',
  /** Holds ESL sockets and the farm's board (shared with its siblings): in the node's process. */
  freeswitch: 'in-memory',
  /** Waits on the network only (SSH, pg): nothing blocks the event loop. */
  pg: 'in-memory',
  /** Hold sockets and subscribe to the node's event stream (a function in their arguments). */
  services: 'in-memory',
} as const satisfies Record<string, ActorMode>;
