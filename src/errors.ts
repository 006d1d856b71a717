/**
 * The base of mware's error catalogue. Every failure kind is a class with a stable `code` (`MW_ERR_…`), keeps its
 * `cause`, and crosses process and node boundaries as plain data ({@link SerializedError}) that is rehydrated into
 * the matching class on the other side.
 */

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  cause?: SerializedError;
}

export interface MwareErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class MwareError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: MwareErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.details) this.details = options.details;
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/**
 * An error that is the caller's fault (bad input, a stale token): the actor answers it and keeps running.
 * Anything else escaping a handler is the actor's own failure and its supervisor restarts it.
 */
export class CallerError extends MwareError {}

type ErrorClass = (new (message: string, options?: MwareErrorOptions) => MwareError) & {
  readonly code: string;
};
const classes = new Map<string, ErrorClass>();
const byCode = new Map<string, ErrorClass>();

/**
 * The base of one failure kind: `class ActorUnavailable extends errorKind('MW_ERR_ACTOR_UNAVAILABLE') {}`, then
 * {@link registerErrorClass} so it rehydrates into itself when it arrives serialised from another process or node.
 * A caller's-mistake kind extends `errorKind(code, CallerError)`.
 */
export function errorKind(code: string, base: typeof MwareError = MwareError) {
  return class extends base {
    static readonly code = code;
    constructor(message: string, options?: MwareErrorOptions) {
      super(code, message, options);
    }
  };
}

/** Makes errors named like `ctor` rehydrate into `ctor`. */
export function registerErrorClass(ctor: ErrorClass): void {
  classes.set(ctor.name, ctor);
  byCode.set(ctor.code, ctor);
}

/** The class registered for a stable code (for errors that arrive as `{code, message}`, as from the API). */
export function errorClassForCode(code: string): ErrorClass | undefined {
  return byCode.get(code);
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (err instanceof MwareError) {
    const out: SerializedError = { name: err.name, code: err.code, message: err.message };
    if (err.details) out.details = err.details;
    if (err.cause !== undefined && depth < 4) out.cause = serializeError(err.cause, depth + 1);
    return out;
  }
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, code: 'MW_ERR_INTERNAL', message: err.message };
    if (err.cause !== undefined && depth < 4) out.cause = serializeError(err.cause, depth + 1);
    return out;
  }
  return { name: 'Error', code: 'MW_ERR_INTERNAL', message: String(err) };
}

/** Turns serialised data back into an error of the registered class (or a plain MwareError). */
export function rehydrateError(data: SerializedError): MwareError {
  const cause = data.cause ? rehydrateError(data.cause) : undefined;
  const known = classes.get(data.name);
  const opts: MwareErrorOptions = { cause, details: data.details };
  const err =
    known && known.code === data.code
      ? new known(data.message, opts)
      : new MwareError(data.code, data.message, opts);
  if (!known) err.name = data.name;
  return err;
}

export function isCallerError(err: unknown): boolean {
  return err instanceof CallerError;
}
