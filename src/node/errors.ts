import type { MwareErrorOptions } from '../errors.ts';
import { MwareError, registerErrorClass } from '../errors.ts';

/** The node could not start: a dependency (data directory, state store, coordination) is not usable. */
export class NodeStartFailed extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_NODE_START_FAILED', message, options);
  }
}
registerErrorClass(NodeStartFailed, 'MW_ERR_NODE_START_FAILED');
