import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_TOPOLOGY } from '../node/options.ts';
import { EXIT } from './exit-codes.ts';
import type { LogFormatFlags } from './log-format.ts';
import { logFormat } from './log-format.ts';

/**
 * The `mware` command line (03-interfaces.md "CLI"). Each command imports its implementation inside its action,
 * never here: the node's dependencies are not inert (comedy patches `child_process.fork` as it is imported,
 * node:repl loads `domain`, which slows every EventEmitter), and `validate`, `schema`, `shell` and `send` run
 * without a node. test/cli/loads.test.ts checks what each command loads.
 */

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The commands and their options; `exit` receives each command's exit code (tests pass their own). */
export function buildProgram(exit: (code: number) => void): Command {
  const out = (s: string) => void process.stdout.write(s + '\n');
  const err = (s: string) => void process.stderr.write(s + '\n');
  const program = new Command('mware')
    .description(
      'mware — the middleware role of a FreeSWITCH/SIP telephony platform, as an actor-system cluster runtime',
    )
    .version(pkg.version)
    .showHelpAfterError('(run mware --help for usage)')
    .exitOverride();

  program
    .command('start')
    .description('run a node of the cluster described by a topology file, until SIGTERM/SIGINT')
    .addOption(new Option('--topology <file>', 'topology file (YAML or JSON)').default(DEFAULT_TOPOLOGY))
    .option('--role <name>', 'role instance to run (default: the only enabled mware instance of the file)')
    .option('--data-dir <dir>', 'where the node keeps its state (default: data/<role>)')
    .addOption(new Option('--log-json', 'log JSON lines, even on a terminal').conflicts('logPretty'))
    .option('--log-pretty', 'log human-readable lines, even when piped or redirected')
    .addHelpText(
      'after',
      '\nLogs are human-readable lines when stdout is a terminal, JSON lines when it is piped or redirected.',
    )
    .action(async (o: { topology: string; role?: string; dataDir?: string } & LogFormatFlags) => {
      const { startCommand } = await import('./start-command.ts');
      exit(
        await startCommand({
          topologyFile: o.topology,
          role: o.role,
          dataDir: o.dataDir,
          logPretty: logFormat(o, process.stdout.isTTY === true) === 'pretty',
        }),
      );
    });

  program
    .command('validate')
    .description('check a topology file: every problem with its path; exit 0 valid, 2 invalid')
    .argument('<file>', 'topology file (YAML or JSON)')
    .action(async (file: string) => {
      const { validateCommand } = await import('./validate-command.ts');
      exit(validateCommand(file, out, err));
    });

  program
    .command('schema')
    .description('print the JSON Schema of the topology file (for editors)')
    .action(async () => {
      const { schemaCommand } = await import('./schema-command.ts');
      exit(schemaCommand(out));
    });

  const connectionOptions = (cmd: Command) =>
    cmd
      .option('--url <url>', 'node API address (default: MWARE_URL or http://127.0.0.1:7070)')
      .option(
        '--token-file <file>',
        'file holding the API token (default: MWARE_TOKEN, or ./data/<role>/api.token)',
      )
      .option(
        '--token <token>',
        'API token (visible to other users in the process list: prefer --token-file or MWARE_TOKEN)',
      );

  connectionOptions(
    program
      .command('shell')
      .description('the supervision-tree inspection shell (interactive; -c runs one command)')
      .option('-c, --command <command>', 'run one command and exit (e.g. -c "tree")')
      .option('--no-color', 'plain output even on a terminal'),
  ).action(
    async (o: { url?: string; token?: string; tokenFile?: string; command?: string; color?: boolean }) => {
      const { shellCommand } = await import('./shell-command.ts');
      exit(await shellCommand(o));
    },
  );

  connectionOptions(
    program
      .command('send')
      .description('send one message to an actor (tell); --reply waits for its answer (ask)')
      .argument('<path>', 'actor path, e.g. /domains/test.rootdomain.ru')
      .argument('<type>', 'message type')
      .argument('[json]', 'payload (JSON)')
      .option('--reply', 'wait for the reply and print it')
      .option('--timeout <ms>', 'deadline in milliseconds', (v) => Number(v)),
  ).action(
    async (
      path: string,
      type: string,
      json: string | undefined,
      o: { url?: string; token?: string; tokenFile?: string; reply?: boolean; timeout?: number },
    ) => {
      const { sendCommand } = await import('./send-command.ts');
      exit(await sendCommand(path, type, json, { ...o, timeoutMs: o.timeout }));
    },
  );

  return program;
}

/** Runs `mware` on `argv` and exits the process with the command's code (0 ok, 1 failure, 2 usage). */
export async function main(argv: string[]): Promise<void> {
  // A pipe's writes are asynchronous and process.exit drops what is still queued (`mware schema | cat` lost all but
  // the first 64 KiB): exit once stdout has taken everything written before.
  const exit = (code: number) => {
    process.stdout.write('', () => process.exit(code));
  };
  try {
    await buildProgram(exit).parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are not errors; anything else commander rejects is bad usage.
      process.exit(e.exitCode === 0 ? EXIT.ok : EXIT.usage);
    }
    process.stderr.write(`mware: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(EXIT.failure);
  }
}
