import type { SerializedError } from '../errors.ts';

/**
 * The inspection stream: one stream of events from every supervisor, consumed by the shell, the web view, the
 * logs and the metrics (02-runtime.md "Inspection").
 */

export type ChildState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export type ActorMode = 'in-memory' | 'forked' | 'threaded';
export type ChildMode = ActorMode | 'supervisor';

interface Base {
  path: string;
  /** Wall-clock milliseconds. */
  at: number;
}

export type InspectionEvent =
  | (Base & { type: 'started'; kind: string; mode: ChildMode; pid?: number })
  | (Base & { type: 'stopped'; reason: 'normal' | 'shutdown' })
  | (Base & { type: 'failed'; error: SerializedError })
  | (Base & { type: 'restarted'; restarts: number; delayMs: number; manual: boolean })
  | (Base & { type: 'escalated'; error: SerializedError })
  | (Base & { type: 'state-changed'; from: ChildState; to: ChildState })
  | (Base & ServiceNotice);

/**
 * A service's decision or result, in words an operator reads (a PostgreSQL failover, a backup run): `topic` names
 * the service (`pg`, `backup`, …), `event` what happened, `epoch` the fencing epoch it was decided under, `level`
 * how loud it is. `data` carries plain facts (server names, positions, durations), never a secret.
 */
export interface ServiceNotice {
  type: 'notice';
  topic: string;
  event: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  epoch?: number;
  data?: Record<string, unknown>;
}

export type InspectionListener = (e: InspectionEvent) => void;

export class EventStream {
  private readonly listeners = new Set<InspectionListener>();

  /** Subscribes; returns the unsubscribe function. A throwing listener never breaks the emitter. */
  subscribe(listener: InspectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: InspectionEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken consumer (a closed SSE stream, say) must not stop supervision.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
