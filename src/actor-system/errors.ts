import type { MwareErrorOptions } from '../errors.ts';
import { CallerError, MwareError, registerErrorClass } from '../errors.ts';

/** Errors of the actor runtime: addressing, delivery, crashes. */

/** The actor exists but cannot take the message now (stopped, failed, or its buffer is full or timed out). */
export class ActorUnavailable extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_ACTOR_UNAVAILABLE', message, options);
  }
}
registerErrorClass(ActorUnavailable, 'MW_ERR_ACTOR_UNAVAILABLE');

/** The actor crashed while the message was in flight; the message may or may not have been handled. */
export class ActorCrashed extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_ACTOR_CRASHED', message, options);
  }
}
registerErrorClass(ActorCrashed, 'MW_ERR_ACTOR_CRASHED');

/** No actor lives at that path. */
export class ActorNotFound extends CallerError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_ACTOR_NOT_FOUND', message, options);
  }
}
registerErrorClass(ActorNotFound, 'MW_ERR_ACTOR_NOT_FOUND');

/** The reply did not come before the deadline. */
export class AskTimeout extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_TIMEOUT', message, options);
  }
}
registerErrorClass(AskTimeout, 'MW_ERR_TIMEOUT');

/** The actor has no handler for that message type. */
export class UnknownMessage extends CallerError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_UNKNOWN_MESSAGE', message, options);
  }
}
registerErrorClass(UnknownMessage, 'MW_ERR_UNKNOWN_MESSAGE');

/** The message's payload is not what the handler accepts. */
export class InvalidMessage extends CallerError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_INVALID_MESSAGE', message, options);
  }
}
registerErrorClass(InvalidMessage, 'MW_ERR_INVALID_MESSAGE');

/** An actor failed to start (its initialisation threw, or its process could not be created). */
export class ActorStartFailed extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_ACTOR_START_FAILED', message, options);
  }
}
registerErrorClass(ActorStartFailed, 'MW_ERR_ACTOR_START_FAILED');

/** An actor's process did not answer its liveness ping in time. */
export class LivenessTimeout extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_LIVENESS_TIMEOUT', message, options);
  }
}
registerErrorClass(LivenessTimeout, 'MW_ERR_LIVENESS_TIMEOUT');

/** A forked or threaded actor's process or thread exited. */
export class ActorProcessExited extends MwareError {
  constructor(message: string, options?: MwareErrorOptions) {
    super('MW_ERR_ACTOR_PROCESS_EXITED', message, options);
  }
}
registerErrorClass(ActorProcessExited, 'MW_ERR_ACTOR_PROCESS_EXITED');
