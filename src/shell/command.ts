import type { MwareClient } from '../client/client.ts';
import type { Style } from './style.ts';

/**
 * Shell commands: a registry that later services extend (`calls`, `migrate`, `drain` for FreeSWITCH; `pg` for
 * PostgreSQL) with {@link registerShellCommand}.
 */

export interface ShellContext {
  client: MwareClient;
  /** The current actor path (`cd`). */
  cwd: string;
  out(line: string): void;
  style: Style;
  /** Aborted when the user presses Ctrl-C while a command runs (stops `events` and `logs -f`). */
  signal: AbortSignal;
  /**
   * The output is a terminal, this many rows high now: a command may redraw its last lines in place (a live
   * view). Undefined when the output is piped: print lines once, in order.
   */
  terminalRows?: () => number;
}

export interface ShellCommand {
  name: string;
  usage: string;
  summary: string;
  /** Argument positions (0-based, after the name) that are actor paths, for completion. */
  pathArgs?: number[];
  /**
   * Argument positions that are message types of the actor named by the argument just before, completed from
   * that actor's public messages (its kind's table, as the API lists it).
   */
  typeArgs?: number[];
  /**
   * Candidates for the word at `position` (0-based, after the name) given the words before it: subcommands and
   * names the command knows (a cluster key, a server). Paths and message types have their own fields above.
   */
  complete?(argv: string[], position: number, client: MwareClient): Promise<string[]>;
  /** `argv` are the words after the name; `rest(n)` is the raw text after the first n words (for JSON). */
  run(argv: string[], rest: (n: number) => string, ctx: ShellContext): Promise<void>;
}

const registry = new Map<string, ShellCommand>();

export function registerShellCommand(c: ShellCommand): void {
  registry.set(c.name, c);
}

export function shellCommands(): ShellCommand[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function shellCommand(name: string): ShellCommand | undefined {
  return registry.get(name);
}

/** Words of a command line; "double" or 'single' quotes keep spaces. */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** The raw text of `line` after its first `n` words. */
export function after(line: string, n: number): string {
  let rest = line.trimStart();
  for (let i = 0; i < n; i++) rest = rest.replace(/^("[^"]*"|'[^']*'|\S+)\s*/, '');
  return rest.trim();
}

/** Resolves a path typed in the shell against the current one (`..`, `.`, relative and absolute). */
export function resolvePath(cwd: string, p: string | undefined): string {
  if (p === undefined || p === '') return cwd;
  const parts = (p.startsWith('/') ? [] : cwd.split('/'))
    .concat(p.split('/'))
    .filter((s) => s !== '' && s !== '.');
  const out: string[] = [];
  for (const s of parts) {
    if (s === '..') out.pop();
    else out.push(s);
  }
  return '/' + out.join('/');
}
