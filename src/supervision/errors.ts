import { CallerError, errorKind, registerErrorClass } from '../errors.ts';

/**
 * Errors of the supervision engine: addressing children, delivering to them, starting them, and the tree's own
 * refusals. The actor runtime (src/actor-system) raises the same delivery errors and re-exports these classes.
 */

/** The actor exists but cannot take the message now (stopped, failed, or its buffer is full or timed out). */
export class ActorUnavailable extends errorKind('MW_ERR_ACTOR_UNAVAILABLE') {}
registerErrorClass(ActorUnavailable);

/** No actor lives at that path. */
export class ActorNotFound extends errorKind('MW_ERR_ACTOR_NOT_FOUND', CallerError) {}
registerErrorClass(ActorNotFound);

/** The reply did not come before the deadline. */
export class AskTimeout extends errorKind('MW_ERR_TIMEOUT') {}
registerErrorClass(AskTimeout);

/** An actor failed to start (its initialisation threw, or its process could not be created). */
export class ActorStartFailed extends errorKind('MW_ERR_ACTOR_START_FAILED') {}
registerErrorClass(ActorStartFailed);

/** A dynamic supervisor has as many children as its `maxChildren` allows; retry once some have ended. */
export class SupervisorFull extends errorKind('MW_ERR_SUPERVISOR_FULL') {}
registerErrorClass(SupervisorFull);

/** A supervisor exceeded its restart intensity, stopped its children and failed itself; its parent decides. */
export class RestartIntensityExceeded extends errorKind('MW_ERR_RESTART_INTENSITY') {}
registerErrorClass(RestartIntensityExceeded);

/** An operation on the tree that does not apply (restarting a supervisor's unknown child, a duplicate id, …). */
export class SupervisorOperationRefused extends errorKind('MW_ERR_SUPERVISOR_REFUSED', CallerError) {}
registerErrorClass(SupervisorOperationRefused);
