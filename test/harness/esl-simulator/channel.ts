import type { PeerMode, SimChannel } from './types.ts';

/** A live channel inside the simulator. Times are microseconds since the epoch, as FreeSWITCH keeps them. */
export interface ChannelRec {
  uuid: string;
  direction: 'inbound' | 'outbound';
  profile: string;
  domain: string;
  callId: string;
  callerName: string;
  callerNumber: string;
  destNumber: string;
  /** switch_channel_state_t name: CS_EXECUTE, CS_EXCHANGE_MEDIA, CS_INIT … */
  state: string;
  /** switch_channel_callstate_t name: ACTIVE, DOWN … */
  callState: string;
  createdUs: number;
  answeredUs: number;
  bridgedUs: number;
  resurrectUs: number;
  /** The partner leg (variable signal_bond). */
  bridgedTo?: string;
  /** CF_BRIDGE_ORIGINATOR: the A leg, which rebuilds the bridge after a recovery. */
  originator: boolean;
  conference?: string;
  memberId?: number;
  recovered: boolean;
  mediaIp: string;
  mediaPort: number;
  /** When its RTP socket was bound, in the host's bind order (the latest on an address:port gets its packets). */
  rtpBoundAt: number;
  advertisedMediaIp: string;
  /** Host in sip_recover_via (outbound legs), else the host's own SIP address. */
  viaHost: string;
  peer: PeerMode;
  /** Current application and its data (`bridge`, `conference`, `park`). */
  app: string;
  appData: string;
  /** Dialplan applications of the extension, replayed after a recovery of an unbridged leg. */
  extension: { app: string; data: string }[];
  /** Every other channel variable, kept verbatim across a recovery (sip_*, rewritten media vars …). */
  vars: Map<string, string>;
  /** A hangup timer set by a recovery (RECOVERY_ON_TIMER_EXPIRE). */
  timer?: NodeJS.Timeout;
}

export function channelName(c: ChannelRec): string {
  return `sofia/${c.profile}/${c.direction === 'inbound' ? c.callerNumber : c.destNumber}@${c.domain}`;
}

/** The contract's read-only view; `sharing`: the other live channels of the host bound to its media address. */
export function toSimChannel(c: ChannelRec, sharing: readonly ChannelRec[] = []): SimChannel {
  const out: SimChannel = {
    uuid: c.uuid,
    direction: c.direction,
    profile: c.profile,
    state: c.state,
    recovered: c.recovered,
    domain: c.domain,
    callId: c.callId,
    mediaIp: c.mediaIp,
    mediaPort: c.mediaPort,
    viaHost: c.viaHost,
    mediaSharedWith: sharing.map((o) => o.uuid),
    receivesMedia: sharing.every((o) => o.rtpBoundAt < c.rtpBoundAt),
  };
  if (c.bridgedTo !== undefined) out.bridgedTo = c.bridgedTo;
  if (c.conference !== undefined) out.conference = c.conference;
  return out;
}

/** switch_channel_state_t numbers (switch_types.h). */
export const STATE_NUMBER: Record<string, number> = {
  CS_NEW: 0,
  CS_INIT: 1,
  CS_ROUTING: 2,
  CS_SOFT_EXECUTE: 3,
  CS_EXECUTE: 4,
  CS_EXCHANGE_MEDIA: 5,
  CS_PARK: 6,
  CS_CONSUME_MEDIA: 7,
  CS_HIBERNATE: 8,
  CS_RESET: 9,
  CS_HANGUP: 10,
  CS_REPORTING: 11,
  CS_DESTROY: 12,
};

/** Channel event headers (switch_channel_event_set_basic_data + caller profile + variables, switch_channel.c). */
export function channelHeaders(c: ChannelRec, switchname: string): [string, string][] {
  const h: [string, string][] = [
    ['Channel-State', c.state],
    ['Channel-Call-State', c.callState],
    ['Channel-State-Number', String(STATE_NUMBER[c.state] ?? 0)],
    ['Channel-Name', channelName(c)],
    ['Unique-ID', c.uuid],
    ['Call-Direction', c.direction],
    ['Presence-Call-Direction', c.direction],
    ['Channel-HIT-Dialplan', c.direction === 'inbound' ? 'true' : 'false'],
    ['Channel-Call-UUID', c.uuid],
    ['Answer-State', c.answeredUs > 0 ? 'answered' : 'ringing'],
    ['Channel-Read-Codec-Name', 'PCMU'],
    ['Channel-Read-Codec-Rate', '8000'],
    ['Channel-Write-Codec-Name', 'PCMU'],
    ['Channel-Write-Codec-Rate', '8000'],
    ['Caller-Direction', c.direction],
    ['Caller-Logical-Direction', c.direction],
    ['Caller-Username', c.callerNumber],
    ['Caller-Dialplan', 'XML'],
    ['Caller-Caller-ID-Name', c.callerName],
    ['Caller-Caller-ID-Number', c.callerNumber],
    ['Caller-Orig-Caller-ID-Name', c.callerName],
    ['Caller-Orig-Caller-ID-Number', c.callerNumber],
    ['Caller-Network-Addr', c.vars.get('sip_network_ip') ?? ''],
    ['Caller-ANI', c.callerNumber],
    ['Caller-Destination-Number', c.destNumber],
    ['Caller-Unique-ID', c.uuid],
    ['Caller-Source', 'mod_sofia'],
    ['Caller-Context', 'default'],
    ['Caller-Channel-Name', channelName(c)],
    ['Caller-Profile-Index', '1'],
    ['Caller-Profile-Created-Time', String(c.createdUs)],
    ['Caller-Channel-Created-Time', String(c.createdUs)],
    ['Caller-Channel-Answered-Time', String(c.answeredUs)],
    ['Caller-Channel-Progress-Time', '0'],
    ['Caller-Channel-Progress-Media-Time', '0'],
    ['Caller-Channel-Hangup-Time', '0'],
    ['Caller-Channel-Transfer-Time', '0'],
    ['Caller-Channel-Resurrect-Time', String(c.resurrectUs)],
    ['Caller-Channel-Bridged-Time', String(c.bridgedUs)],
    ['Caller-Channel-Last-Hold', '0'],
    ['Caller-Channel-Hold-Accum', '0'],
    ['Caller-Screen-Bit', 'true'],
    ['Caller-Privacy-Hide-Name', 'false'],
    ['Caller-Privacy-Hide-Number', 'false'],
  ];
  for (const [k, v] of channelVariables(c, switchname)) h.push([`variable_${k}`, v]);
  return h;
}

/**
 * The channel's variables, in the order FreeSWITCH usually lists them: the modelled ones first (derived from
 * the record, so a bridge or a rewrite shows at once), then every other variable kept in `vars`.
 */
export function channelVariables(c: ChannelRec, _switchname: string): [string, string][] {
  const v = new Map<string, string>();
  v.set('direction', c.direction);
  v.set('uuid', c.uuid);
  v.set('session_id', c.vars.get('session_id') ?? '1');
  v.set('channel_name', channelName(c));
  v.set('sip_call_id', c.callId);
  v.set('domain_name', c.domain);
  v.set('recovery_profile_name', c.profile);
  v.set('local_media_ip', c.mediaIp);
  v.set('local_media_port', String(c.mediaPort));
  v.set('advertised_media_ip', c.advertisedMediaIp);
  v.set('endpoint_disposition', 'ANSWER');
  v.set('current_application', c.app);
  v.set('current_application_data', c.appData);
  v.set('call_uuid', c.uuid);
  if (c.bridgedTo !== undefined) {
    v.set('signal_bond', c.bridgedTo);
    v.set('bridge_to', c.bridgedTo);
    v.set('last_bridge_to', c.bridgedTo);
    v.set('bridge_uuid', c.bridgedTo);
  }
  if (c.conference !== undefined) {
    v.set('conference_name', c.conference);
    if (c.memberId !== undefined) v.set('conference_member_id', String(c.memberId));
  }
  if (c.recovered) v.set('recovered', 'true');
  for (const [k, val] of c.vars) if (!v.has(k)) v.set(k, val);
  return [...v];
}

/** Variables a channel gets when it is placed (what sofia sets from the INVITE/200 OK). */
export function initialVars(o: {
  direction: 'inbound' | 'outbound';
  uuid: string;
  callId: string;
  caller: string;
  callee: string;
  domain: string;
  profile: string;
  sipIp: string;
  peerIp: string;
  peerPort: number;
  cseq: number;
  recordRoute?: string;
  remoteMediaPort: number;
}): Map<string, string> {
  const v = new Map<string, string>();
  const fromTag = o.uuid.slice(0, 8);
  const toTag = o.uuid.slice(-8);
  v.set('sip_from_user', o.caller);
  v.set('sip_from_uri', `${o.caller}@${o.domain}`);
  v.set('sip_from_host', o.domain);
  v.set('sip_to_user', o.callee);
  v.set('sip_to_uri', `${o.callee}@${o.domain}`);
  v.set('sip_to_host', o.domain);
  v.set('sip_req_user', o.callee);
  v.set('sip_req_uri', `${o.callee}@${o.peerIp}:${o.peerPort}`);
  v.set('sip_req_host', o.peerIp);
  v.set('sip_contact_user', o.direction === 'inbound' ? o.caller : o.callee);
  v.set('sip_contact_uri', `${o.direction === 'inbound' ? o.caller : o.callee}@${o.peerIp}:${o.peerPort}`);
  v.set('sip_contact_host', o.peerIp);
  v.set('sip_network_ip', o.peerIp);
  v.set('sip_network_port', String(o.peerPort));
  v.set('sip_received_ip', o.peerIp);
  v.set('sip_received_port', String(o.peerPort));
  v.set('sip_via_protocol', 'udp');
  v.set('sip_full_from', `<sip:${o.caller}@${o.domain}>;tag=${fromTag}`);
  v.set('sip_full_to', `<sip:${o.callee}@${o.domain}>;tag=${toTag}`);
  v.set('sip_from_tag', fromTag);
  v.set('sip_to_tag', toTag);
  v.set('sip_cseq', String(o.cseq));
  const via = `SIP/2.0/UDP ${o.sipIp}:5060;rport=5060;branch=z9hG4bK${o.uuid.slice(0, 12)}`;
  if (o.direction === 'outbound') {
    // sofia.c:300: sip_recover_via is kept for outbound legs (the Via of our own INVITE, naming this host).
    v.set('sip_full_via', via);
    v.set('sip_recover_via', via);
  } else {
    v.set(
      'sip_full_via',
      `SIP/2.0/UDP ${o.peerIp}:${o.peerPort};rport=${o.peerPort};branch=z9hG4bK${fromTag}`,
    );
  }
  if (o.recordRoute !== undefined) {
    v.set('sip_invite_route_uri', o.recordRoute);
    v.set('sip_invite_record_route', o.recordRoute);
  }
  v.set('remote_media_ip', o.peerIp);
  v.set('remote_media_port', String(o.remoteMediaPort));
  v.set('rtp_use_codec_name', 'PCMU');
  v.set('rtp_use_codec_rate', '8000');
  v.set('rtp_use_codec_ptime', '20');
  v.set('rtp_use_pt', '0');
  v.set('sofia_profile_name', o.profile);
  return v;
}

/** The host part of a Via value (`SIP/2.0/UDP host:port;…`). */
export function viaHostOf(via: string | undefined): string | undefined {
  const m = via === undefined ? null : /^SIP\/2\.0\/\S+\s+\[?([^\]\s:;]+)/i.exec(via);
  return m?.[1];
}
