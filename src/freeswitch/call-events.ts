import type { EslEvent } from './esl/event.ts';

/**
 * The farm's call events as one typed stream (05-freeswitch.md, issue 9 item 3): what the FreeSWITCH host actors
 * make of ESL channel events, for the migration's proof and for the services that follow calls (CTI, hunt
 * tracking, number states). One record per change, in the host's own order.
 */
export type CallEventKind =
  | 'created'
  | 'answered'
  | 'bridged'
  | 'unbridged'
  | 'transferred'
  | 'conference-joined'
  | 'conference-left'
  | 'recorded'
  | 'ended';

export interface CallEvent {
  kind: CallEventKind;
  /** The FreeSWITCH host (its name in the topology). */
  host: string;
  uuid: string;
  /** The SIP Call-ID of the leg (`variable_sip_call_id`), when it has one. */
  callId: string | null;
  direction: 'inbound' | 'outbound' | null;
  domain: string | null;
  caller: string | null;
  callee: string | null;
  /** `bridged`/`unbridged`: the other leg. */
  partner: string | null;
  /** `conference-*`: its name. */
  conference: string | null;
  /** `ended`: FreeSWITCH's hangup cause (NORMAL_CLEARING, RECOVERY_ON_TIMER_EXPIRE …). */
  cause: string | null;
  /** The leg was re-created by a recovery (`variable_recovered=true`). */
  recovered: boolean;
  /** `transferred`: where to. */
  destination: string | null;
  /** `recorded`: the file a recording of the leg began to write (RECORD_START's Record-File-Path). */
  recording: string | null;
  /** The host's own time of the event (Event-Date-Timestamp, ms). */
  at: number;
}

const KINDS: Readonly<Record<string, CallEventKind>> = {
  CHANNEL_CREATE: 'created',
  CHANNEL_ANSWER: 'answered',
  CHANNEL_BRIDGE: 'bridged',
  CHANNEL_UNBRIDGE: 'unbridged',
  RECORD_START: 'recorded',
  // CHANNEL_HANGUP, not _COMPLETE: the earlier of the two; the cause is already set.
  CHANNEL_HANGUP: 'ended',
};

/** What a host actor subscribes to: channel events, HEARTBEAT, and the CUSTOM subclasses it reads. */
export const CHANNEL_EVENT_NAMES = [
  'CHANNEL_CREATE',
  'CHANNEL_ANSWER',
  'CHANNEL_BRIDGE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_HANGUP',
  'CHANNEL_EXECUTE',
  'RECORD_START',
  'HEARTBEAT',
  // Last: every word after CUSTOM names a subclass.
  'CUSTOM',
  'conference::maintenance',
  'sofia::transferor',
  'sofia::transferee',
] as const;

/** The call event an ESL event means, or null when it is not one. */
export function callEventOf(host: string, e: EslEvent, now: number): CallEvent | null {
  const h = e.headers;
  let kind: CallEventKind | undefined = KINDS[e.name];
  let conference: string | null = null;
  let destination: string | null = null;
  if (e.name === 'CUSTOM') {
    const sub = h['Event-Subclass'];
    if (sub === 'conference::maintenance') {
      const action = h['Action'];
      if (action === 'add-member') kind = 'conference-joined';
      else if (action === 'del-member') kind = 'conference-left';
      conference = h['Conference-Name'] ?? null;
    } else if (sub === 'sofia::transferor' || sub === 'sofia::transferee') {
      kind = 'transferred';
      destination = h['variable_transfer_destination'] ?? h['Refer-To'] ?? null;
    }
  } else if (e.name === 'CHANNEL_EXECUTE' && h['Application'] === 'transfer') {
    kind = 'transferred';
    destination = h['Application-Data'] ?? null;
  }
  const uuid = h['Unique-ID'];
  if (!kind || !uuid) return null;
  const a = h['Bridge-A-Unique-ID'];
  const b = h['Bridge-B-Unique-ID'];
  const direction = h['Call-Direction'];
  return {
    kind,
    host,
    uuid,
    callId: h['variable_sip_call_id'] ?? null,
    direction: direction === 'inbound' || direction === 'outbound' ? direction : null,
    domain: h['variable_domain_name'] ?? h['variable_sip_req_host'] ?? null,
    caller: h['Caller-Caller-ID-Number'] ?? null,
    callee: h['Caller-Destination-Number'] ?? null,
    partner: kind === 'bridged' || kind === 'unbridged' ? ((a === uuid ? b : a) ?? null) : null,
    conference,
    cause: kind === 'ended' ? (h['Hangup-Cause'] ?? null) : null,
    recovered: h['variable_recovered'] === 'true',
    destination,
    recording: kind === 'recorded' ? (h['Record-File-Path'] ?? null) : null,
    at: timestampMs(h['Event-Date-Timestamp'], now),
  };
}

/** Event-Date-Timestamp is microseconds since the epoch; `now` when it is missing. */
function timestampMs(us: string | undefined, now: number): number {
  const n = Number(us);
  return Number.isFinite(n) && n > 0 ? Math.floor(n / 1000) : now;
}
