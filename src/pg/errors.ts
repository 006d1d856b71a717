import { errorKind, registerErrorClass } from '../errors.ts';

/**
 * Failures of the pg layer. Messages name the server (`user@host:port/database`) and PostgreSQL's own words
 * (with its SQLSTATE in `details.sqlstate`), never a password or the SQL text (which may hold one).
 */

/** Nothing accepts connections there: the port refuses, no route, the name does not resolve. */
export class PgUnreachable extends errorKind('MW_ERR_PG_UNREACHABLE') {}
registerErrorClass(PgUnreachable);

/**
 * A deadline passed: connecting (`details.phase: 'connect'`: the server accepted TCP but never answered, as a
 * stopped postmaster does), or a query (`'query'`, client-side; `'statement'`, PostgreSQL's statement_timeout).
 */
export class PgTimeout extends errorKind('MW_ERR_PG_TIMEOUT') {}
registerErrorClass(PgTimeout);

/** The server refused the credentials (SQLSTATE class 28). */
export class PgAuthFailed extends errorKind('MW_ERR_PG_AUTH') {}
registerErrorClass(PgAuthFailed);

/** The server is starting, shutting down or in recovery from a crash (SQLSTATE 57P01–57P03). */
export class PgUnavailable extends errorKind('MW_ERR_PG_UNAVAILABLE') {}
registerErrorClass(PgUnavailable);

/** A write reached a server in recovery: a standby (SQLSTATE 25006). */
export class PgReadOnly extends errorKind('MW_ERR_PG_READ_ONLY') {}
registerErrorClass(PgReadOnly);

/** The connection ended under a query (server crashed, connection killed, network cut). */
export class PgConnectionLost extends errorKind('MW_ERR_PG_CONNECTION_LOST') {}
registerErrorClass(PgConnectionLost);

/** Any other error PostgreSQL reported for a statement; `details.sqlstate` says which. */
export class PgQueryFailed extends errorKind('MW_ERR_PG_QUERY') {}
registerErrorClass(PgQueryFailed);
