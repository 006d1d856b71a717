import { errorKind, registerErrorClass } from '../../src/errors.ts';

/** Failures of the PostgreSQL replication controller. Messages name servers (`host:port`), never a credential. */

/** A switchover was asked for something that is not a healthy standby of the cluster, or while busy. */
export class PgSwitchoverRefused extends errorKind('MW_ERR_PG_SWITCHOVER_REFUSED') {}
registerErrorClass(PgSwitchoverRefused);

/** An action on a server failed (promote, stop, rewind, basebackup, start); `details.step` says which. */
export class PgActionFailed extends errorKind('MW_ERR_PG_ACTION_FAILED') {}
registerErrorClass(PgActionFailed);

/** This node is no longer its group's active instance: the controller acts no more. */
export class PgNotLeading extends errorKind('MW_ERR_PG_NOT_LEADING') {}
registerErrorClass(PgNotLeading);
