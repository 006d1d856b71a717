import type { SerializedError } from '../errors.ts';
import { CallerError, errorKind, registerErrorClass, rehydrateError } from '../errors.ts';

/** Errors of the actor runtime: addressing, delivery, crashes (delivery errors are the supervision engine's). */

export { ActorNotFound, ActorStartFailed, ActorUnavailable, AskTimeout } from '../supervision/errors.ts';

/** The actor crashed while the message was in flight; the message may or may not have been handled. */
export class ActorCrashed extends errorKind('MW_ERR_ACTOR_CRASHED') {}
registerErrorClass(ActorCrashed);

/** The actor has no handler for that message type. */
export class UnknownMessage extends errorKind('MW_ERR_UNKNOWN_MESSAGE', CallerError) {}
registerErrorClass(UnknownMessage);

/** The message's payload is not what the handler accepts. */
export class InvalidMessage extends errorKind('MW_ERR_INVALID_MESSAGE', CallerError) {}
registerErrorClass(InvalidMessage);

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
