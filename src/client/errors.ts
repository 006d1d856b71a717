import type { MwareErrorOptions } from '../errors.ts';
import { errorClassForCode, errorKind, MwareError, registerErrorClass } from '../errors.ts';
// Every error class the API can answer with, so a response's code becomes the matching class.
import '../actor-system/errors.ts';
import '../api/errors.ts';
import '../freeswitch/errors.ts';
import '../supervision/errors.ts';
import '../../actors/mutex/errors.ts';

/** A lock that was not granted within its wait (withLock), or an answer the client cannot use. */
export class MutexLockTimeout extends errorKind('MW_ERR_MUTEX_LOCK_TIMEOUT') {}
registerErrorClass(MutexLockTimeout);
export class ClientRequestFailed extends errorKind('MW_ERR_REQUEST_FAILED') {}
registerErrorClass(ClientRequestFailed);

/** The error for an API error response: the class registered for its code, with the HTTP status in details. */
export function responseError(status: number, body: unknown): MwareError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  const code = typeof e?.code === 'string' ? e.code : `MW_ERR_HTTP_${status}`;
  const message = typeof e?.message === 'string' ? e.message : `HTTP ${status}`;
  const details = {
    ...(typeof e?.details === 'object' && e.details ? (e.details as Record<string, unknown>) : {}),
    status,
  };
  const known = errorClassForCode(code);
  const opts: MwareErrorOptions = { details };
  return known ? new known(message, opts) : new MwareError(code, message, opts);
}
