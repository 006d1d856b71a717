import { CallerError, errorKind, registerErrorClass } from '../../errors.ts';

/**
 * Failures of the ESL client. Messages name the host as `host:port` and, for a command, its first word only (an
 * `originate` string or a `uuid_setvar` may carry secrets); never the password. `details.host`/`details.port`
 * always say which FreeSWITCH.
 */

/** Nothing accepts TCP there: the port refuses, no route, the name does not resolve. */
export class EslUnreachable extends errorKind('MW_ERR_ESL_UNREACHABLE') {}
registerErrorClass(EslUnreachable);

/**
 * FreeSWITCH refused us: `-ERR invalid` to `auth` (wrong password), or `text/rude-rejection` (its ACL;
 * `details.reason: 'rude-rejection'`).
 */
export class EslAuthFailed extends errorKind('MW_ERR_ESL_AUTH') {}
registerErrorClass(EslAuthFailed);

/**
 * A deadline passed: connecting (`details.command: 'connect'`, `details.phase` says how far it got), or a command
 * (`details.command` is its first word, `details.kind` `api`/`bgapi`/`event`/`filter`).
 */
export class EslTimeout extends errorKind('MW_ERR_ESL_TIMEOUT') {}
registerErrorClass(EslTimeout);

/** The connection ended (peer closed, socket error, disconnect notice, protocol error, `close()`) under a command. */
export class EslConnectionLost extends errorKind('MW_ERR_ESL_CONNECTION_LOST') {}
registerErrorClass(EslConnectionLost);

/** The peer sent something that is not ESL: a garbled or oversized frame, an event body that does not parse. */
export class EslProtocolError extends errorKind('MW_ERR_ESL_PROTOCOL') {}
registerErrorClass(EslProtocolError);

/** FreeSWITCH answered `-ERR …` to `event`, `filter` or `bgapi` (`details.reply` holds its text). */
export class EslCommandFailed extends errorKind('MW_ERR_ESL_COMMAND') {}
registerErrorClass(EslCommandFailed);

/**
 * The caller's command cannot be sent as one ESL command: empty, or holding a line break (which would smuggle
 * extra commands or headers onto the socket and shift every later reply).
 */
export class EslInvalidCommand extends errorKind('MW_ERR_ESL_INVALID_COMMAND', CallerError) {}
registerErrorClass(EslInvalidCommand);
