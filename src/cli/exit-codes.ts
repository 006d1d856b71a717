/** Exit codes of every `mware` command (03-interfaces.md). */
export const EXIT = {
  ok: 0,
  /** A runtime failure: the node could not start or failed while running. */
  failure: 1,
  /** Bad usage or invalid input (an invalid topology file). */
  usage: 2,
} as const;
