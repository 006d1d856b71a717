import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawn } from 'node:child_process';
import { eachLine } from './process-lines.ts';

/**
 * A program run by mware's own tooling (the local cluster's redis-server and instances; the test harness's servers):
 * its output line by line, its exit, and a stop that escalates to SIGKILL.
 */

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OutputProcessOptions extends Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid' | 'detached'> {
  onLine: (line: string) => void;
}

/** How long an exited program's pipes may stay open (a grandchild holding them) before its exit is reported. */
const PIPES_GRACE_MS = 500;

export class OutputProcess {
  /** Resolves once the program has exited and its output has been read to the end. */
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private exit: Exit | undefined;

  constructor(command: string, args: readonly string[], o: OutputProcessOptions) {
    const { onLine, ...spawnOptions } = o;
    this.child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      const report = (exit: Exit) => {
        this.exit ??= exit;
        resolve(this.exit);
      };
      this.child.once('exit', (code, signal) => {
        // Its last lines may still be in the pipes: wait for them to close, briefly.
        const timer = setTimeout(() => report({ code, signal }), PIPES_GRACE_MS);
        this.child.once('close', () => {
          clearTimeout(timer);
          report({ code, signal });
        });
      });
      this.child.once('error', (err) => {
        onLine(`cannot start ${command}: ${err.message}`);
        report({ code: null, signal: null });
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) eachLine(stream, onLine);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** As last reported ({@link exited}), undefined while it runs. */
  get exitStatus(): Exit | undefined {
    return this.exit;
  }

  get running(): boolean {
    return this.exit === undefined && this.child.pid !== undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Sends `sig`, and SIGKILL if it still runs `timeoutMs` later; resolves once it has exited. */
  async stop(sig: NodeJS.Signals, timeoutMs: number): Promise<Exit> {
    if (!this.running) return this.exited;
    this.child.kill(sig);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
