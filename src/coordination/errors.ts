import type { MwareErrorOptions } from '../errors.ts';
import { MwareError, registerErrorClass } from '../errors.ts';

/** Another live node already runs on this data directory (embedded coordination allows one). */
export class DataDirLocked extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_DATA_DIR_LOCKED', message, options);
  }
}
registerErrorClass(DataDirLocked, 'MW_ERR_DATA_DIR_LOCKED');

/** The topology asks for something this build does not do yet. */
export class Unsupported extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_UNSUPPORTED', message, options);
  }
}
registerErrorClass(Unsupported, 'MW_ERR_UNSUPPORTED');
