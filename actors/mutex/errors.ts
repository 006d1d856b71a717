import type { MwareErrorOptions } from '../../src/errors.ts';
import { CallerError, MwareError, registerErrorClass } from '../../src/errors.ts';

/** unlock with a token that is not the owner's current hold (released, expired, or never granted). */
export class MutexStaleToken extends CallerError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_MUTEX_STALE_TOKEN', message, options);
  }
}
registerErrorClass(MutexStaleToken, 'MW_ERR_MUTEX_STALE_TOKEN');

/** A lock request the mutex cannot take (empty owner, bad mode, hold time out of range, bad key). */
export class MutexBadRequest extends CallerError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_MUTEX_BAD_REQUEST', message, options);
  }
}
registerErrorClass(MutexBadRequest, 'MW_ERR_MUTEX_BAD_REQUEST');

/** This node does not host the key's mutex now (passive, or another group owns the key). */
export class MutexUnavailable extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_MUTEX_UNAVAILABLE', message, options);
  }
}
registerErrorClass(MutexUnavailable, 'MW_ERR_MUTEX_UNAVAILABLE');
