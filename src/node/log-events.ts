import type { Log } from '../log/log.ts';
import type { EventStream, InspectionEvent } from '../supervision/events.ts';

/** Inspection events as log lines: failures loud, routine lifecycle at debug. Returns the unsubscribe function. */
export function logInspectionEvents(events: EventStream, log: Log): () => void {
  return events.subscribe((e: InspectionEvent) => {
    switch (e.type) {
      case 'failed':
        log.warn({ path: e.path, error: e.error }, 'actor failed');
        return;
      case 'escalated':
        log.error({ path: e.path, error: e.error }, 'supervisor escalated');
        return;
      case 'restarted':
        log.info(
          { path: e.path, restarts: e.restarts, delayMs: e.delayMs, manual: e.manual },
          'actor restarted',
        );
        return;
      case 'started':
        log.debug({ path: e.path, kind: e.kind, mode: e.mode, pid: e.pid }, 'actor started');
        return;
      case 'stopped':
        log.debug({ path: e.path, reason: e.reason }, 'actor stopped');
        return;
      case 'state-changed':
        return;
      default: {
        const never: never = e;
        return never;
      }
    }
  });
}
