import { CallerError, errorKind, registerErrorClass } from '../errors.ts';

/** Failures of mware's FreeSWITCH farm work (ESL failures are in `esl/errors.ts`). */

/**
 * A newer epoch has already handed out recovery rows: this node is no longer its group's active instance. A refusal
 * (restarting the actor changes nothing), like PgNotLeading.
 */
export class FsFenced extends errorKind('MW_ERR_FS_FENCED', CallerError) {}
registerErrorClass(FsFenced);

/** The named FreeSWITCH host is not in the topology's `freeswitch.hosts`. */
export class FsUnknownHost extends errorKind('MW_ERR_FS_UNKNOWN_HOST', CallerError) {}
registerErrorClass(FsUnknownHost);

/** A migration was refused before it began (the host is already being migrated, no target is usable …). */
export class FsMigrationRefused extends errorKind('MW_ERR_FS_MIGRATION_REFUSED', CallerError) {}
registerErrorClass(FsMigrationRefused);

/** No migration with that id is kept on this node. */
export class FsUnknownMigration extends errorKind('MW_ERR_FS_UNKNOWN_MIGRATION', CallerError) {}
registerErrorClass(FsUnknownMigration);

/** The role has no `freeswitch` parameter. */
export class FsNotConfigured extends errorKind('MW_ERR_FS_NOT_CONFIGURED', CallerError) {}
registerErrorClass(FsNotConfigured);

/**
 * A migration the operator followed ended failed, or with calls lost or not recovered (`migrate`/`drain` in the shell
 * exit non-zero with it, so a script does not carry on as if every call had moved). Not a caller's mistake.
 */
export class FsMigrationUnsuccessful extends errorKind('MW_ERR_FS_MIGRATION_UNSUCCESSFUL') {}
registerErrorClass(FsMigrationUnsuccessful);

// ------------------------------------------------------------------------------------------------ call manager
// Every call manager failure is a CallerError: it is answered and the call manager actor goes on (a host that does
// not answer is the host actor's failure, not the call manager's).

/** No live call with that id in the request's domain (also FreeSWITCH's `-ERR No such channel!`). */
export class CallNotFound extends errorKind('MW_ERR_CALL_NOT_FOUND', CallerError) {}
registerErrorClass(CallNotFound);

/** No conference of that name in the request's domain, or no such participant in it. */
export class ConferenceNotFound extends errorKind('MW_ERR_CONFERENCE_NOT_FOUND', CallerError) {}
registerErrorClass(ConferenceNotFound);

/**
 * The called party refused or did not take the call: originate answered `-ERR <CAUSE>` with a cause of the far end
 * (USER_BUSY, NO_ANSWER, CALL_REJECTED …). `details.cause` holds FreeSWITCH's cause.
 */
export class CallRefused extends errorKind('MW_ERR_CALL_REFUSED', CallerError) {}
registerErrorClass(CallRefused);

/**
 * FreeSWITCH could not carry out the command for a reason of its own or of the network (originate's
 * NORMAL_TEMPORARY_FAILURE, an unexpected `-ERR`). `details.cause`/`details.reply` say what it answered.
 */
export class CallFailed extends errorKind('MW_ERR_CALL_FAILED', CallerError) {}
registerErrorClass(CallFailed);

/** The host of the call does not answer (ESL down, a deadline passed), or no live unpaused host can take a new call. */
export class CallHostUnavailable extends errorKind('MW_ERR_CALL_HOST_UNAVAILABLE', CallerError) {}
registerErrorClass(CallHostUnavailable);

/** A recording path that would leave the domain's recordings folder (absolute, `..`, odd characters). */
export class RecordPathRefused extends errorKind('MW_ERR_CALL_RECORD_PATH_REFUSED', CallerError) {}
registerErrorClass(RecordPathRefused);
