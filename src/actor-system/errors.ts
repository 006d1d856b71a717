import type { SerializedError } from '../errors.ts';
import { CallerError, errorKind, registerErrorClass, rehydrateError } from '../errors.ts';

/** Errors of the actor runtime: addressing, delivery, crashes. */

/** The actor exists but cannot take the message now (stopped, failed, or its buffer is full or timed out). */
export class ActorUnavailable extends errorKind('MW_ERR_ACTOR_UNAVAILABLE') {}
registerErrorClass(ActorUnavailable);

/** The actor crashed while the message was in flight; the message may or may not have been handled. */
export class ActorCrashed extends errorKind('MW_ERR_ACTOR_CRASHED') {}
registerErrorClass(ActorCrashed);

/** No actor lives at that path. */
export class ActorNotFound extends errorKind('MW_ERR_ACTOR_NOT_FOUND', CallerError) {}
registerErrorClass(ActorNotFound);

/** The reply did not come before the deadline. */
export class AskTimeout extends errorKind('MW_ERR_TIMEOUT') {}
registerErrorClass(AskTimeout);

/** The actor has no handler for that message type. */
export class UnknownMessage extends errorKind('MW_ERR_UNKNOWN_MESSAGE', CallerError) {}
registerErrorClass(UnknownMessage);

/** The message's payload is not what the handler accepts. */
export class InvalidMessage extends errorKind('MW_ERR_INVALID_MESSAGE', CallerError) {}
registerErrorClass(InvalidMessage);

/** An actor failed to start (its initialisation threw, or its process could not be created). */
export class ActorStartFailed extends errorKind('MW_ERR_ACTOR_START_FAILED') {}
registerErrorClass(ActorStartFailed);

/** An actor's process did not answer its liveness ping in time. */
export class LivenessTimeout extends errorKind('MW_ERR_LIVENESS_TIMEOUT') {}
registerErrorClass(LivenessTimeout);

/** A forked or threaded actor's process or thread exited. */
export class ActorProcessExited extends errorKind('MW_ERR_ACTOR_PROCESS_EXITED') {}
registerErrorClass(ActorProcessExited);

/** The error a request gets when the actor handling it failed (`failure`, as the actor reported it). */
export function crashError(path: string, failure: SerializedError): ActorCrashed {
  return new ActorCrashed(`${path} crashed: ${failure.message}`, { cause: rehydrateError(failure) });
}
