import { CallerError, errorKind, MwareError, registerErrorClass, serializeError } from '../errors.ts';

/**
 * The API's one error shape, `{error: {code, message, details?}}`, and the one table from a stable `MW_ERR_*`
 * code to its HTTP status. An error that is not one of ours is an internal error: its message stays in the node's
 * log and the response says only that.
 */

export class Unauthorized extends errorKind('MW_ERR_UNAUTHORIZED', CallerError) {}
registerErrorClass(Unauthorized);
export class Forbidden extends errorKind('MW_ERR_FORBIDDEN', CallerError) {}
registerErrorClass(Forbidden);
export class BadRequest extends errorKind('MW_ERR_BAD_REQUEST', CallerError) {}
registerErrorClass(BadRequest);
export class RouteNotFound extends errorKind('MW_ERR_NOT_FOUND', CallerError) {}
registerErrorClass(RouteNotFound);
export class Draining extends errorKind('MW_ERR_DRAINING') {}
registerErrorClass(Draining);
export class NotReady extends errorKind('MW_ERR_NOT_READY') {}
registerErrorClass(NotReady);

export const STATUS: Readonly<Record<string, number>> = {
  MW_ERR_BAD_REQUEST: 400,
  MW_ERR_BAD_JSON: 400,
  MW_ERR_INVALID_MESSAGE: 400,
  MW_ERR_UNKNOWN_MESSAGE: 400,
  MW_ERR_MUTEX_BAD_REQUEST: 400,
  MW_ERR_UNAUTHORIZED: 401,
  MW_ERR_FORBIDDEN: 403,
  MW_ERR_NOT_FOUND: 404,
  MW_ERR_ACTOR_NOT_FOUND: 404,
  MW_ERR_METHOD_NOT_ALLOWED: 405,
  MW_ERR_MUTEX_STALE_TOKEN: 409,
  MW_ERR_SUPERVISOR_REFUSED: 409,
  MW_ERR_PAYLOAD_TOO_LARGE: 413,
  MW_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  MW_ERR_ACTOR_CRASHED: 500,
  MW_ERR_INTERNAL: 500,
  MW_ERR_ACTOR_UNAVAILABLE: 503,
  MW_ERR_MUTEX_UNAVAILABLE: 503,
  MW_ERR_DRAINING: 503,
  MW_ERR_NOT_READY: 503,
  MW_ERR_TIMEOUT: 504,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Status and body for any error; `internal` is true when the details belong in the log, not the response. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof MwareError) {
    const status = STATUS[err.code] ?? (err instanceof CallerError ? 400 : 500);
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details) body.error.details = err.details;
    return { status, body, internal: status >= 500 && err.code === 'MW_ERR_INTERNAL' };
  }
  const s = serializeError(err);
  return {
    status: 500,
    body: { error: { code: 'MW_ERR_INTERNAL', message: 'internal error (see the node’s log)' } },
    internal: s.code === 'MW_ERR_INTERNAL',
  };
}
