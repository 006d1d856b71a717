import { TopologyInvalid, RoleNotFound } from '../../topology/errors.ts';
import { MwareError, serializeError } from '../errors.ts';
import type { NodeOptions } from '../node/node.ts';
import { MwareNode } from '../node/node.ts';
import { EXIT } from './exit-codes.ts';

/**
 * `mware start`: runs a node until SIGTERM or SIGINT. The first signal stops it gracefully (reverse order, state
 * saved, leadership released) and exits 0; a second one exits at once. A node that fails on its own exits 1.
 */
export async function startCommand(opts: NodeOptions): Promise<number> {
  let node: MwareNode | undefined;
  let signalled = false;
  let crashed = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`mware: second ${signal}, exiting at once\n`);
      process.exit(EXIT.failure);
    }
    signalled = true;
    node?.log.info({ signal }, 'signal received, stopping');
    void node?.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    crashed = true;
    process.stderr.write(
      JSON.stringify({
        level: 60,
        msg: 'uncaught exception; the node stops',
        err: serializeError(err),
        stack: err.stack,
      }) + '\n',
    );
    if (node) void node.stop().finally(() => process.exit(EXIT.failure));
    else process.exit(EXIT.failure);
  });

  try {
    node = await MwareNode.start(opts);
  } catch (err) {
    if (err instanceof TopologyInvalid || err instanceof RoleNotFound) {
      process.stderr.write(`mware: ${err.message}\n`);
      return EXIT.usage;
    }
    const what = err instanceof MwareError ? `${err.message} (${err.code})` : String(err);
    process.stderr.write(`mware: the node could not start: ${what}\n`);
    return EXIT.failure;
  }
  // A signal that arrived during start-up is honoured now that there is a node to stop.
  if (signalled) void node.stop();
  await node.stopped;
  return signalled && !crashed && node.failure === undefined ? EXIT.ok : EXIT.failure;
}
