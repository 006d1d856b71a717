import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { eachLine } from '../../process-lines.ts';

/**
 * A program the local cluster runs (redis-server, an mware instance): its output line by line, its exit, and a stop
 * that escalates to SIGKILL. Each child is the leader of its own process group (`detached`), so the Ctrl-C a
 * terminal sends to its foreground group reaches the script alone, which then stops the children in its own order
 * (mware instances first, Redis last) instead of every process at once.
 */

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Child {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    o: { env?: NodeJS.ProcessEnv; cwd?: string; onLine: (line: string) => void },
  ) {
    this.child = spawn(command, args, {
      env: o.env,
      cwd: o.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal })));
      this.child.once('error', (err) => {
        o.onLine(`cannot start ${command}: ${err.message}`);
        resolve((this.exit = { code: null, signal: null }));
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) eachLine(stream, o.onLine);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined && this.child.pid !== undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Sends `sig`, and SIGKILL if the child still runs `timeoutMs` later; resolves once it has exited. */
  async stop(sig: NodeJS.Signals, timeoutMs: number): Promise<Exit> {
    if (!this.running) return this.exited;
    this.child.kill(sig);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** How a child ended, in words. */
export function describeExit(e: Exit): string {
  return e.signal ? `killed by ${e.signal}` : `exited with code ${e.code ?? '?'}`;
}
