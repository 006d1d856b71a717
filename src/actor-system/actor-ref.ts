import type { Directory } from '../supervision/directory.ts';
import type { ChildRecord } from '../supervision/child.ts';
import type { Protocol } from './kind.ts';

export interface AskOptions {
  /** How long to wait for the reply, including time the message is held while the actor restarts. */
  timeoutMs?: number;
}

export const DEFAULT_ASK_TIMEOUT_MS = 30_000;

/**
 * A typed reference to an actor by path. Paths, not incarnations, are addresses: a reference stays valid across
 * restarts, and re-resolves when the actor's supervisor has itself been restarted.
 */
export class ActorRef<P extends Protocol> {
  private record: ChildRecord | undefined;

  constructor(
    readonly path: string,
    private readonly directory: Directory,
  ) {}

  /** Sends and waits for the reply. */
  ask<T extends keyof P & string>(
    type: T,
    payload: P[T]['request'],
    opts?: AskOptions,
  ): Promise<P[T]['reply']> {
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    const r = this.record;
    if (r !== undefined && !r.removed) return r.ask(type, payload, timeoutMs);
    return this.resolveAndAsk(type, payload, timeoutMs);
  }

  /**
   * Sends without waiting for the reply. Delivery failures are not the sender's to handle: a crash is seen by the
   * actor's supervisor, and an unavailable actor is reported through `onUndelivered`.
   */
  tell<T extends keyof P & string>(
    type: T,
    payload: P[T]['request'],
    onUndelivered?: (err: unknown) => void,
  ): void {
    this.ask(type, payload).then(undefined, (err: unknown) => onUndelivered?.(err));
  }

  private async resolveAndAsk(type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    this.record = await this.directory.resolve(this.path, timeoutMs);
    return this.record.ask(type, payload, timeoutMs);
  }
}

/** An untyped ask by path, for messages that arrive from outside (API, shell) and were validated there. */
export async function askPath(
  directory: Directory,
  path: string,
  type: string,
  payload: unknown,
  timeoutMs = DEFAULT_ASK_TIMEOUT_MS,
): Promise<unknown> {
  const r = await directory.resolve(path, timeoutMs);
  return r.ask(type, payload, timeoutMs);
}
