import { createInterface } from 'node:readline';
import repl from 'node:repl';
import type { MwareClient, Tree } from '../client/client.ts';
import { MwareError } from '../errors.ts';
import { registerBuiltinCommands } from './builtin-commands.ts';
import { registerAcmeCommands } from './acme-commands.ts';
import { registerControllerCommands } from './controller-commands.ts';
import { registerFreeswitchCommands } from './freeswitch-commands.ts';
import { registerMonitorCommands } from './monitor-commands.ts';
import { registerTaskCommands } from './task-commands.ts';
import type { ShellContext } from './command.ts';
import { after, resolvePath, shellCommand, shellCommands, words } from './command.ts';
import type { Style } from './style.ts';
import { style } from './style.ts';

/**
 * `mware shell`: an interactive REPL (node:repl) over the API — completion of commands and actor paths, history
 * kept between sessions, colour on a terminal — or, when its input is piped, one command per line with plain
 * output. Works against any node the client can reach.
 */

registerBuiltinCommands();
registerControllerCommands();
registerAcmeCommands();
registerFreeswitchCommands();
registerMonitorCommands();
registerTaskCommands();

export interface ShellOptions {
  client: MwareClient;
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  color: boolean;
  historyFile?: string;
}

/** Runs one command line; errors are printed, and the result says whether it succeeded. */
export async function runLine(line: string, ctx: ShellContext): Promise<boolean> {
  const argv = words(line);
  const name = argv.shift();
  if (name === undefined) return true;
  const cmd = shellCommand(name);
  if (!cmd) {
    ctx.out(ctx.style.red(`unknown command "${name}" (help lists them)`));
    return false;
  }
  try {
    await cmd.run(argv, (n) => after(line, n + 1), ctx);
    return true;
  } catch (err) {
    ctx.out(
      ctx.style.red(
        err instanceof MwareError ? `${err.code}: ${err.message}` : `error: ${(err as Error).message}`,
      ),
    );
    return false;
  }
}

function context(
  client: MwareClient,
  out: (s: string) => void,
  s: Style,
  output: NodeJS.WritableStream & { isTTY?: boolean; rows?: number },
): ShellContext {
  return {
    client,
    cwd: '/',
    out,
    style: s,
    signal: new AbortController().signal,
    ...(output.isTTY === true && { terminalRows: () => output.rows ?? 24 }),
  };
}

/** `mware shell -c "CMD"`: one command, exit code 0 or 1. */
export async function runOnce(
  client: MwareClient,
  line: string,
  output: NodeJS.WritableStream,
  color: boolean,
): Promise<number> {
  return (await runLine(
    line,
    context(client, (l) => void output.write(l + '\n'), style(color), output),
  ))
    ? 0
    : 1;
}

/** The shell over a stream of commands: a REPL on a terminal, line by line when piped. */
export async function runShell(o: ShellOptions): Promise<number> {
  const s = style(o.color);
  const out = (l: string) => void o.output.write(l + '\n');
  const ctx = context(o.client, out, s, o.output);
  if (!o.input.isTTY) return runPiped(o, ctx);

  let running: AbortController | undefined;
  let failures = 0;
  out(s.dim(`connected to ${o.client.url} — help lists the commands, Tab completes, exit leaves`));
  const prompt = () => `${s.bold('mware')}:${ctx.cwd}> `;
  const server = repl.start({
    prompt: prompt(),
    input: o.input,
    output: o.output,
    terminal: true,
    ignoreUndefined: true,
    useColors: o.color,
    completer: (line: string, cb: (err: Error | null, r: [string[], string]) => void) => {
      complete(o.client, ctx.cwd, line).then(
        (r) => cb(null, r),
        () => cb(null, [[], line]),
      );
    },
    eval: (cmd: string, _c: unknown, _f: string, cb: (err: Error | null, result?: unknown) => void) => {
      const line = cmd.trim();
      if (line === 'exit' || line === 'quit') {
        server.close();
        return cb(null);
      }
      running = new AbortController();
      ctx.signal = running.signal;
      void runLine(line, ctx)
        .then((ok) => {
          if (!ok) failures++;
        })
        .finally(() => {
          running = undefined;
          server.setPrompt(prompt());
          cb(null);
        });
    },
  });
  // Ctrl-C while a command runs (following a stream, say) stops the command; otherwise it does what a REPL's does.
  const replSigint = server.listeners('SIGINT') as ((...a: unknown[]) => void)[];
  server.removeAllListeners('SIGINT');
  server.on('SIGINT', () => {
    if (running) running.abort();
    else for (const l of replSigint) l.call(server);
  });
  if (o.historyFile) server.setupHistory(o.historyFile, () => undefined);
  await new Promise<void>((resolve) => server.on('exit', resolve));
  return failures > 0 ? 1 : 0;
}

async function runPiped(o: ShellOptions, ctx: ShellContext): Promise<number> {
  let failed = false;
  const lines = createInterface({ input: o.input, terminal: false });
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'exit' || line === 'quit') break;
    if (!(await runLine(line, ctx))) failed = true;
  }
  return failed ? 1 : 0;
}

let treeCache: { at: number; paths: string[] } | undefined;

async function actorPaths(client: MwareClient): Promise<string[]> {
  if (treeCache && Date.now() - treeCache.at < 2_000) return treeCache.paths;
  const paths: string[] = [];
  const walk = (n: Tree) => {
    if (n.path !== '/') paths.push(n.path);
    for (const c of n.children ?? []) walk(c);
  };
  walk(await client.tree());
  treeCache = { at: Date.now(), paths };
  return paths;
}

/** Tab completion: command names first, then actor paths where a command takes one. */
export async function complete(client: MwareClient, cwd: string, line: string): Promise<[string[], string]> {
  const argv = words(line);
  const endsWithSpace = /\s$/.test(line);
  if (argv.length === 0 || (argv.length === 1 && !endsWithSpace)) {
    const partial = argv[0] ?? '';
    return [
      shellCommands()
        .map((c) => c.name)
        .filter((n) => n.startsWith(partial)),
      partial,
    ];
  }
  const cmd = shellCommand(argv[0] ?? '');
  const position = endsWithSpace ? argv.length - 1 : argv.length - 2;
  const partial = endsWithSpace ? '' : (argv[argv.length - 1] ?? '');
  if (cmd?.typeArgs?.includes(position)) {
    const target = argv[position];
    if (target === undefined) return [[], ''];
    const details = await client.actor(resolvePath(cwd, target)).catch(() => undefined);
    const types = (details?.messages ?? []).map((m) => m.type);
    return [types.filter((t) => t.startsWith(partial)), partial];
  }
  if (cmd?.complete) {
    const candidates = await cmd.complete(argv.slice(1), position, client).catch(() => []);
    if (candidates.length > 0) return [candidates.filter((c) => c.startsWith(partial)), partial];
  }
  if (!cmd?.pathArgs?.includes(position)) return [[], ''];
  const paths = await actorPaths(client);
  if (partial.startsWith('/')) return [paths.filter((p) => p.startsWith(partial)), partial];
  // Relative to the current path: offer the same form the user is typing.
  const base = cwd === '/' ? '/' : `${cwd}/`;
  const absolute = resolvePath(cwd, partial);
  const prefix = partial === '' || partial.endsWith('/') ? `${absolute === '/' ? '' : absolute}/` : absolute;
  const candidates = paths
    .filter((p) => p.startsWith(prefix))
    .map((p) => (p.startsWith(base) ? p.slice(base.length) : p));
  return [candidates, partial];
}
