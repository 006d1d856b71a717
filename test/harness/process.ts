import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawn } from 'node:child_process';
import { HarnessError } from './errors.ts';
import { eachLine } from '../../src/process-lines.ts';

/**
 * A real program started by a test: its output kept line by line, a way to wait for a line, and a stop that
 * escalates to SIGKILL. Every process started here is killed when the test process exits, even on failure.
 */

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private waiters: { re: RegExp; resolve(line: string): void }[] = [];
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions = {},
  ) {
    this.child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        // Its last output may still be in the pipes: wait for them to close (briefly: a grandchild may hold them).
        const done = () => {
          clearTimeout(timer);
          this.exit = { code, signal };
          resolve(this.exit);
        };
        const timer = setTimeout(done, 500);
        this.child.once('close', done);
      });
      this.child.once('error', (err) => {
        live.delete(this.child);
        this.lines.push(`[spawn error] ${err.message}`);
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr])
      eachLine(stream, (line) => this.onLine(line));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Resolves with the first line (already seen or to come) matching `re`. */
  waitForLine(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new HarnessError(
            `${this.name}: no line matching ${re} within ${timeoutMs} ms; last lines:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(() => {
        if (this.waiters.includes(waiter)) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new HarnessError(
              `${this.name} exited (${JSON.stringify(this.exit)}) before a line matching ${re}; last lines:\n${this.tail()}`,
            ),
          );
        }
      });
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Sends `sig`, waits up to `timeoutMs`, then SIGKILL. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.child.kill(sig);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  tail(n = 20): string {
    return this.lines.slice(-n).join('\n');
  }

  private onLine(line: string): void {
    this.lines.push(line);
    for (const w of [...this.waiters]) {
      if (w.re.test(line)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(line);
      }
    }
  }
}

/** Runs a program to completion; rejects with its output when it fails. */
export async function run(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<string> {
  const p = new ManagedProcess(name, command, args, options);
  const exit = await p.exited;
  if (exit.code !== 0) throw new HarnessError(`${name} failed (${JSON.stringify(exit)}):\n${p.tail(40)}`);
  return p.lines.join('\n');
}
