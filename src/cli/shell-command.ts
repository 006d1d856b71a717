import { homedir } from 'node:os';
import { join } from 'node:path';
import { MwareError } from '../errors.ts';
import { runOnce, runShell } from '../shell/shell.ts';
import type { ConnectionOptions } from './connection.ts';
import { connect } from './connection.ts';
import { EXIT } from './exit-codes.ts';

/** `mware shell`: the inspection shell, interactive or `-c "COMMAND"`. */
export async function shellCommand(
  o: ConnectionOptions & { command?: string; color?: boolean },
): Promise<number> {
  let client;
  try {
    client = connect(o);
  } catch (err) {
    process.stderr.write(`mware: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const color = (o.color ?? true) && process.stdout.isTTY === true && !process.env.NO_COLOR;
  try {
    if (o.command !== undefined) return await runOnce(client, o.command, process.stdout, color);
    return await runShell({
      client,
      input: process.stdin,
      output: process.stdout,
      color,
      historyFile: process.env.MWARE_SHELL_HISTORY ?? join(homedir(), '.mware_history'),
    });
  } catch (err) {
    process.stderr.write(
      `mware: ${err instanceof MwareError ? `${err.code}: ${err.message}` : String(err)}\n`,
    );
    return EXIT.failure;
  }
}
