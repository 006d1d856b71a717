import { CallerError, errorKind, MwareError, registerErrorClass } from '../errors.ts';

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
export class TooManyStreams extends errorKind('MW_ERR_TOO_MANY_STREAMS') {}
registerErrorClass(TooManyStreams);
/** The role runs no PostgreSQL replication controller (its `pg_controller` is empty). */
export class PgNotConfigured extends errorKind('MW_ERR_PG_NOT_CONFIGURED', CallerError) {}
registerErrorClass(PgNotConfigured);
/** No replicated cluster of the role's `pg_controller` has that key. */
export class PgUnknownCluster extends errorKind('MW_ERR_PG_UNKNOWN_CLUSTER', CallerError) {}
registerErrorClass(PgUnknownCluster);
/** The role runs no backup controller (no `backup_controller`). */
export class BackupNotConfigured extends errorKind('MW_ERR_BACKUP_NOT_CONFIGURED', CallerError) {}
registerErrorClass(BackupNotConfigured);

export const STATUS: Readonly<Record<string, number>> = {
  MW_ERR_BAD_REQUEST: 400,
  MW_ERR_BAD_JSON: 400,
  MW_ERR_INVALID_MESSAGE: 400,
  MW_ERR_UNKNOWN_MESSAGE: 400,
  MW_ERR_MUTEX_BAD_REQUEST: 400,
  MW_ERR_CALL_RECORD_PATH_REFUSED: 400,
  MW_ERR_UNAUTHORIZED: 401,
  MW_ERR_FORBIDDEN: 403,
  MW_ERR_NOT_FOUND: 404,
  MW_ERR_ACTOR_NOT_FOUND: 404,
  MW_ERR_PG_NOT_CONFIGURED: 404,
  MW_ERR_PG_UNKNOWN_CLUSTER: 404,
  MW_ERR_BACKUP_NOT_CONFIGURED: 404,
  MW_ERR_FS_UNKNOWN_HOST: 404,
  MW_ERR_FS_UNKNOWN_MIGRATION: 404,
  MW_ERR_FS_NOT_CONFIGURED: 404,
  MW_ERR_CALL_NOT_FOUND: 404,
  MW_ERR_TASK_NOT_FOUND: 404,
  MW_ERR_CONFERENCE_NOT_FOUND: 404,
  MW_ERR_ACME_UNKNOWN_CERT: 404,
  MW_ERR_METHOD_NOT_ALLOWED: 405,
  MW_ERR_MUTEX_STALE_TOKEN: 409,
  MW_ERR_SUPERVISOR_REFUSED: 409,
  MW_ERR_PG_SWITCHOVER_REFUSED: 409,
  MW_ERR_FS_MIGRATION_REFUSED: 409,
  MW_ERR_FS_FENCED: 409,
  MW_ERR_CALL_REFUSED: 409,
  MW_ERR_BACKUP_RUNNING: 409,
  MW_ERR_ACME_NO_CERT: 409,
  MW_ERR_TASK_OVERLAP: 409,
  MW_ERR_TASK_READONLY: 409,
  MW_ERR_PAYLOAD_TOO_LARGE: 413,
  MW_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  MW_ERR_ACTOR_CRASHED: 500,
  MW_ERR_INTERNAL: 500,
  MW_ERR_ACTOR_UNAVAILABLE: 503,
  MW_ERR_MUTEX_UNAVAILABLE: 503,
  MW_ERR_DRAINING: 503,
  MW_ERR_NOT_READY: 503,
  MW_ERR_TOO_MANY_STREAMS: 503,
  MW_ERR_PEER_UNAVAILABLE: 503,
  MW_ERR_PEER_LOST: 502,
  MW_ERR_PG_ACTION_FAILED: 502,
  MW_ERR_CALL_FAILED: 502,
  MW_ERR_CALL_HOST_UNAVAILABLE: 503,
  MW_ERR_PG_NOT_LEADING: 503,
  MW_ERR_HOP_LIMIT: 508,
  MW_ERR_SUPERVISOR_FULL: 503,
  MW_ERR_TIMEOUT: 504,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * 5xx codes whose messages are mware's own words about availability (a path, a state, a deadline): safe to return.
 * Every other failure (a crash, an internal error) reaches the client as its code and a plain sentence only; its
 * text, which is whatever the failing code put in it, stays in the node's log.
 */
const OWN_WORDS = new Set([
  'MW_ERR_ACTOR_UNAVAILABLE',
  'MW_ERR_MUTEX_UNAVAILABLE',
  'MW_ERR_DRAINING',
  'MW_ERR_NOT_READY',
  'MW_ERR_TOO_MANY_STREAMS',
  'MW_ERR_SUPERVISOR_FULL',
  'MW_ERR_TIMEOUT',
  'MW_ERR_PEER_UNAVAILABLE',
  'MW_ERR_PEER_LOST',
  'MW_ERR_HOP_LIMIT',
  'MW_ERR_PG_NOT_LEADING',
  // FreeSWITCH's cause (a word such as NORMAL_TEMPORARY_FAILURE, checked before it is put in) and a host name.
  'MW_ERR_CALL_FAILED',
  'MW_ERR_CALL_HOST_UNAVAILABLE',
]);

const PLAIN: Readonly<Record<string, string>> = {
  MW_ERR_ACTOR_CRASHED: 'the actor failed while handling the request (the node’s log has the details)',
  MW_ERR_INTERNAL: 'internal error (the node’s log has the details)',
};

/** Status and body for any error; `internal` is true when the details belong in the log, not the response. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof MwareError) {
    const status = STATUS[err.code] ?? (err instanceof CallerError ? 400 : 500);
    if (status >= 500 && !OWN_WORDS.has(err.code)) {
      const message = PLAIN[err.code] ?? `the request failed (${err.code}); the node’s log has the details`;
      return { status, body: { error: { code: err.code, message } }, internal: true };
    }
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details) body.error.details = err.details;
    return { status, body, internal: false };
  }
  return {
    status: 500,
    body: { error: { code: 'MW_ERR_INTERNAL', message: PLAIN.MW_ERR_INTERNAL as string } },
    internal: true,
  };
}
