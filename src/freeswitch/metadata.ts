/**
 * The `metadata` column of FreeSWITCH's `recovery` table: the channel's XML CDR, every channel variable an element
 * of `<variables>` with its value URL-encoded (05-freeswitch.md). A recovered channel re-binds its RTP to
 * `local_media_ip` from here and re-INVITEs with the Via of `sip_recover_via`: when the target does not own those
 * addresses (no floating IP) mware rewrites them to the target's before it recovers — and again on a second
 * migration, since the metadata still names the first host. uuid, Call-ID, tags, From/To and Contact are never
 * touched: they identify the dialog to the peer.
 */

/** What the migration planner needs from one row's metadata. */
export interface MetadataFacts {
  /** The bridged partner leg (`signal_bond`, FreeSWITCH's bond between bridged legs), if any. */
  partner: string | null;
  conference: string | null;
  domain: string | null;
  callId: string | null;
  caller: string | null;
  callee: string | null;
  direction: 'inbound' | 'outbound' | null;
  mediaIp: string | null;
  /** The host part of `sip_recover_via` (the Via the re-INVITE will carry). */
  viaHost: string | null;
}

/** Where the re-INVITE and its media go after the rewrite: the target's addresses. */
export interface MetadataRewrite {
  mediaIp: string;
  sipIp: string;
  /** Addresses of the farm's hosts that may be named in routing variables (replaced by `sipIp`). */
  farmAddresses: readonly string[];
  /** The CSeq of the re-INVITE: above any the peer has seen. */
  inviteCseq: number;
}

const MEDIA_VARS = ['local_media_ip', 'advertised_media_ip'] as const;
const ROUTE_VARS = ['sip_recover_via', 'sip_invite_route_uri', 'sip_invite_record_route'] as const;

/** The value of one channel variable (decoded), or null. A value that does not decode is returned raw. */
export function variable(xml: string, name: string): string | null {
  const section = variablesSection(xml);
  if (!section) return null;
  const m = new RegExp(`<${escapeRe(name)}>([^<]*)</${escapeRe(name)}>`).exec(
    xml.slice(section.start, section.end),
  );
  return m?.[1] === undefined ? null : decode(m[1]);
}

export function metadataFacts(xml: string): MetadataFacts {
  const v = (n: string): string | null => {
    const s = variable(xml, n);
    return s === null || s === '' ? null : s;
  };
  const direction = v('direction');
  const via = v('sip_recover_via');
  return {
    partner: v('signal_bond') ?? v('bridge_uuid'),
    conference: v('conference_name'),
    domain: v('domain_name') ?? v('sip_req_host') ?? v('sip_to_host'),
    callId: v('sip_call_id'),
    caller: v('caller_id_number') ?? v('sip_from_user'),
    callee: v('destination_number') ?? v('sip_to_user') ?? v('sip_req_user'),
    direction: direction === 'inbound' || direction === 'outbound' ? direction : null,
    mediaIp: v('local_media_ip'),
    viaHost: via ? viaHostOf(via) : null,
  };
}

/**
 * The metadata as the target must find it: media IPs the target's, every farm address in the routing variables the
 * target's SIP address, `sip_invite_cseq` set. Variables absent stay absent (a leg without a Via to recover has
 * none to rewrite), except `sip_invite_cseq`, which FreeSWITCH reads when present.
 */
export function rewriteMetadata(xml: string, r: MetadataRewrite): string {
  const section = variablesSection(xml);
  if (!section) return xml;
  let vars = xml.slice(section.start, section.end);
  for (const name of MEDIA_VARS) vars = setVariable(vars, name, r.mediaIp, false);
  for (const name of ROUTE_VARS) {
    const current = readIn(vars, name);
    if (current === null) continue;
    let next = current;
    for (const addr of r.farmAddresses) if (addr !== r.sipIp) next = replaceHost(next, addr, r.sipIp);
    if (next !== current) vars = setVariable(vars, name, next, false);
  }
  vars = setVariable(vars, 'sip_invite_cseq', String(r.inviteCseq), true);
  return xml.slice(0, section.start) + vars + xml.slice(section.end);
}

/** The next CSeq for a re-INVITE: past the one in the metadata, and past the clock (as FreeSWITCH derives it). */
export function nextInviteCseq(xml: string, nowMs: number): number {
  const current = Number(variable(xml, 'sip_invite_cseq') ?? NaN);
  // FreeSWITCH starts a dialog's CSeq from the clock; a target whose clock lags would go below the peer's.
  const fromClock = Math.floor(nowMs / 1000) % 2_000_000_000;
  return Math.max(Number.isFinite(current) ? current + 100 : 0, fromClock);
}

function viaHostOf(via: string): string | null {
  // `SIP/2.0/UDP 127.0.0.21:5060;rport;branch=…`: the sent-by host.
  const m = /^\s*SIP\/2\.0\/[A-Za-z]+\s+(\[[^\]]+\]|[^:;\s]+)/.exec(via);
  return m?.[1] ?? null;
}

/** Replaces `host` where it stands as a whole host (not inside a longer address such as 127.0.0.210). */
function replaceHost(text: string, host: string, by: string): string {
  return text.replace(
    new RegExp(`(^|[^0-9A-Za-z.\\-])${escapeRe(host)}(?![0-9A-Za-z\\-]|\\.[0-9A-Za-z])`, 'g'),
    `$1${by}`,
  );
}

function variablesSection(xml: string): { start: number; end: number } | null {
  const open = xml.indexOf('<variables>');
  if (open < 0) return null;
  const start = open + '<variables>'.length;
  const end = xml.indexOf('</variables>', start);
  return end < 0 ? null : { start, end };
}

function readIn(vars: string, name: string): string | null {
  const m = new RegExp(`<${escapeRe(name)}>([^<]*)</${escapeRe(name)}>`).exec(vars);
  return m?.[1] === undefined ? null : decode(m[1]);
}

function setVariable(vars: string, name: string, value: string, addIfMissing: boolean): string {
  const re = new RegExp(`<${escapeRe(name)}>[^<]*</${escapeRe(name)}>`);
  const element = `<${name}>${encodeURIComponent(value)}</${name}>`;
  if (re.test(vars)) return vars.replace(re, () => element);
  return addIfMissing ? vars + element : vars;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // FreeSWITCH encodes emoji as CESU-8 surrogate halves, which decodeURIComponent refuses.
    return s;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
