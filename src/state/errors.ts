import type { MwareErrorOptions } from '../errors.ts';
import { MwareError, registerErrorClass } from '../errors.ts';

/** The state store cannot be opened or written (unwritable or full data directory, corrupt file). */
export class StateStoreError extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_STATE_STORE', message, options);
  }
}
registerErrorClass(StateStoreError, 'MW_ERR_STATE_STORE');

/** A write carried an older fencing epoch than the one the key was last written with: a deposed active. */
export class StaleEpoch extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_STALE_EPOCH', message, options);
  }
}
registerErrorClass(StaleEpoch, 'MW_ERR_STALE_EPOCH');
