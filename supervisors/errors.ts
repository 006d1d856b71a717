import type { MwareErrorOptions } from '../src/errors.ts';
import { CallerError, MwareError, registerErrorClass } from '../src/errors.ts';

/** Errors of the supervision engine. */

/** A supervisor exceeded its restart intensity, stopped its children and failed itself; its parent decides. */
export class RestartIntensityExceeded extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_RESTART_INTENSITY', message, options);
  }
}
registerErrorClass(RestartIntensityExceeded, 'MW_ERR_RESTART_INTENSITY');

/** An operation on the tree that does not apply (restarting a supervisor's unknown child, a duplicate id, …). */
export class SupervisorOperationRefused extends CallerError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_SUPERVISOR_REFUSED', message, options);
  }
}
registerErrorClass(SupervisorOperationRefused, 'MW_ERR_SUPERVISOR_REFUSED');
