import type { Exit } from '../../child-process.ts';
import { OutputProcess } from '../../child-process.ts';

/**
 * A program the local cluster runs (redis-server, an mware instance). Each child is the leader of its own process
 * group (`detached`), so the Ctrl-C a terminal sends to its foreground group reaches the script alone, which then
 * stops the children in its own order (mware instances first, Redis last) instead of every process at once.
 */

export type { Exit };

export class Child extends OutputProcess {
  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    o: { env?: NodeJS.ProcessEnv; cwd?: string; onLine: (line: string) => void },
  ) {
    super(command, args, { ...o, detached: true });
  }
}

/** How a child ended, in words. */
export function describeExit(e: Exit): string {
  return e.signal ? `killed by ${e.signal}` : `exited with code ${e.code ?? '?'}`;
}
