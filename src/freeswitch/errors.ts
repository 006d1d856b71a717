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
