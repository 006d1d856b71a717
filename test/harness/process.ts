import type { Exit, OutputProcessOptions } from '../../src/child-process.ts';
import { OutputProcess } from '../../src/child-process.ts';
import { HarnessError } from './errors.ts';

/**
 * A real program started by a test: its output kept line by line, a way to wait for a line, and a stop that
 * escalates to SIGKILL. Every process started here is killed when the test process exits, even on failure.
 */

const live = new Set<OutputProcess>();
process.once('exit', () => {
  for (const p of live) p.signal('SIGKILL');
});

export type { Exit };

export class ManagedProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly proc: OutputProcess;
  private waiters: { re: RegExp; resolve(line: string): void }[] = [];

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: Omit<OutputProcessOptions, 'onLine'> = {},
  ) {
    this.proc = new OutputProcess(command, args, { ...options, onLine: (line) => this.onLine(line) });
    live.add(this.proc);
    this.exited = this.proc.exited.then((exit) => {
      live.delete(this.proc);
      return exit;
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitStatus === undefined;
  }

  /** Resolves with the first line (already seen or to come) matching `re`. */
  waitForLine(re: RegExp, timeoutMs = 30_000): Promise<string> {
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
              `${this.name} exited (${JSON.stringify(this.proc.exitStatus)}) before a line matching ${re}; last lines:\n${this.tail()}`,
            ),
          );
        }
      });
    });
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.signal(sig);
  }

  /** Sends `sig`, waits up to `timeoutMs`, then SIGKILL. */
  stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit> {
    return this.proc.stop(sig, timeoutMs);
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
  options: Omit<OutputProcessOptions, 'onLine'> = {},
): Promise<string> {
  const p = new ManagedProcess(name, command, args, options);
  const exit = await p.exited;
  if (exit.code !== 0) throw new HarnessError(`${name} failed (${JSON.stringify(exit)}):\n${p.tail(40)}`);
  return p.lines.join('\n');
}
