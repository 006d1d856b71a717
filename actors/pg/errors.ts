import { CallerError, errorKind, registerErrorClass } from '../../src/errors.ts';

/** Failures of the PostgreSQL replication controller. Messages name servers (`host:port`), never a credential. */

/** A switchover was asked for something that is not a healthy standby of the cluster, or while busy: the caller's. */
export class PgSwitchoverRefused extends errorKind('MW_ERR_PG_SWITCHOVER_REFUSED', CallerError) {}
registerErrorClass(PgSwitchoverRefused);

/** An action on a server failed (promote, stop, rewind, basebackup, start); `details.step` says which. */
export class PgActionFailed extends errorKind('MW_ERR_PG_ACTION_FAILED') {}
registerErrorClass(PgActionFailed);

/**
 * This node is no longer its group's active instance: the controller acts no more. A refusal, not a fault of the
 * actor (restarting it would change nothing), so it goes back to the caller without a restart.
 */
export class PgNotLeading extends errorKind('MW_ERR_PG_NOT_LEADING', CallerError) {}
registerErrorClass(PgNotLeading);
