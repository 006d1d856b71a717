import type { CoordinationBackend, CoordinationEvent } from '../coordination/backend.ts';
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
      case 'notice':
        log[e.level]({ path: e.path, topic: e.topic, event: e.event, epoch: e.epoch, ...e.data }, e.message);
        return;
      default: {
        const never: never = e;
        return never;
      }
    }
  });
}

/** The group's coordination changes as log lines: health lost loud, the rest at info. Returns the unsubscribe function. */
export function logCoordinationEvents(
  coordination: Pick<CoordinationBackend, 'onEvent'>,
  log: Log,
): () => void {
  return coordination.onEvent((e: CoordinationEvent) => {
    switch (e.type) {
      case 'health':
        if (e.healthy) log.info('coordination healthy again');
        else log.warn({ detail: e.detail }, 'coordination unhealthy');
        return;
      case 'leadership':
        if (e.holder === null) log.info('the group has no known active instance now');
        else log.info({ active: e.holder, epoch: e.epoch }, 'the group’s active instance changed');
        return;
      default: {
        const never: never = e;
        return never;
      }
    }
  });
}
