import { MwareError } from '../errors.ts';
import type { ConnectionOptions } from './connection.ts';
import { connect } from './connection.ts';
import { EXIT } from './exit-codes.ts';

/** `mware send PATH TYPE [JSON]`: one message from a script or a terminal; with --reply, waits and prints it. */
export async function sendCommand(
  path: string,
  type: string,
  payloadJson: string | undefined,
  o: ConnectionOptions & { reply?: boolean },
): Promise<number> {
  let payload: unknown = null;
  if (payloadJson !== undefined) {
    try {
      payload = JSON.parse(payloadJson);
    } catch (err) {
      process.stderr.write(`mware: the payload is not JSON: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
  }
  try {
    const client = connect(o);
    if (o.reply) process.stdout.write(JSON.stringify(await client.ask(path, type, payload), null, 2) + '\n');
    else await client.send(path, type, payload);
    return EXIT.ok;
  } catch (err) {
    const status = err instanceof MwareError ? (err.details?.status as number | undefined) : undefined;
    process.stderr.write(
      `mware: ${err instanceof MwareError ? `${err.code}: ${err.message}` : String(err)}\n`,
    );
    return err instanceof MwareError &&
      (err.code === 'MW_ERR_USAGE' || (status !== undefined && status >= 400 && status < 500))
      ? EXIT.usage
      : EXIT.failure;
  }
}
