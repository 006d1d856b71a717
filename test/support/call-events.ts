import type { CallEvent } from '../../src/freeswitch/call-events.ts';

/** A call event as a host actor publishes it: an inbound leg of a.test from 1001 to 2002, with `over` applied. */
export function callEvent(over: Partial<CallEvent> & Pick<CallEvent, 'uuid'>): CallEvent {
  const kind = over.kind ?? 'created';
  return {
    kind,
    host: 'fs01',
    callId: null,
    direction: 'inbound',
    domain: 'a.test',
    caller: '1001',
    callee: '2002',
    partner: null,
    conference: null,
    cause: kind === 'ended' ? 'NORMAL_CLEARING' : null,
    recovered: false,
    destination: null,
    recording: null,
    at: 0,
    ...over,
  };
}
