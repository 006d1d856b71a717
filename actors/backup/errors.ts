import { CallerError, errorKind, registerErrorClass } from '../../src/errors.ts';

/**
 * Failures of the backup controller. Messages name the step, the pgdb entry or folder and the host, never a
 * password, a key or a command line (which may carry one).
 */

/** A step of a run failed: the run is aborted (`details.step`, `details.target`). */
export class BackupStepFailed extends errorKind('MW_ERR_BACKUP_STEP') {}
registerErrorClass(BackupStepFailed);

/** `run-now` while a run is under way. */
export class BackupAlreadyRunning extends errorKind('MW_ERR_BACKUP_RUNNING', CallerError) {}
registerErrorClass(BackupAlreadyRunning);
