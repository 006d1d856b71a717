import { CallerError, errorKind, registerErrorClass } from '../../src/errors.ts';

/** unlock with a token that is not the owner's current hold (released, expired, or never granted). */
export class MutexStaleToken extends errorKind('MW_ERR_MUTEX_STALE_TOKEN', CallerError) {}
registerErrorClass(MutexStaleToken);

/** A lock request the mutex cannot take (empty owner, bad mode, hold time out of range, bad key). */
export class MutexBadRequest extends errorKind('MW_ERR_MUTEX_BAD_REQUEST', CallerError) {}
registerErrorClass(MutexBadRequest);

/** This node does not host the key's mutex now (passive, or another group owns the key). */
export class MutexUnavailable extends errorKind('MW_ERR_MUTEX_UNAVAILABLE') {}
registerErrorClass(MutexUnavailable);

/** A key used every token of the current epoch (a billion grants): the next epoch starts a new range. */
export class MutexTokensExhausted extends errorKind('MW_ERR_MUTEX_TOKENS_EXHAUSTED', CallerError) {}
registerErrorClass(MutexTokensExhausted);
