import { CallerError, errorKind, registerErrorClass } from '../src/errors.ts';

/** Errors of the supervision engine. */

/** A supervisor exceeded its restart intensity, stopped its children and failed itself; its parent decides. */
export class RestartIntensityExceeded extends errorKind('MW_ERR_RESTART_INTENSITY') {}
registerErrorClass(RestartIntensityExceeded);

/** An operation on the tree that does not apply (restarting a supervisor's unknown child, a duplicate id, …). */
export class SupervisorOperationRefused extends errorKind('MW_ERR_SUPERVISOR_REFUSED', CallerError) {}
registerErrorClass(SupervisorOperationRefused);
