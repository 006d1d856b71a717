/**
 * The `metadata` column of FreeSWITCH's `recovery` table: the channel's XML CDR, every channel variable an element
 * of `<variables>` with its value URL-encoded (05-freeswitch.md). A recovered channel re-binds its RTP to
 * `local_media_ip` from here and re-INVITEs with the Via of `sip_recover_via`: when the target does not own those
 * addresses (no floating IP) mware rewrites them to the target's before it recovers — and again on a second
 * migration, since the metadata still names the first host. It binds `local_media_port` too, even where a call of
 * the target holds it (SO_REUSEADDR: the two calls' audio crosses), so the port is rewritten to one free there.
 * uuid, Call-ID, tags, From/To and Contact are never touched: they identify the dialog to the peer.
 */

/** What the migration planner needs from one row's metadata. */
export interface MetadataFacts {
  /**
   * The bridged partner leg: `signal_bond`, else `originate_signal_bond` — what FreeSWITCH's recovery reads to
   * re-bridge (switch_channel_get_partner_uuid, switch_channel.c:4864); `bridge_uuid` is not read by it.
   */
  partner: string | null;
  conference: string | null;
  domain: string | null;
  callId: string | null;
  caller: string | null;
  callee: string | null;
  direction: 'inbound' | 'outbound' | null;
  mediaIp: string | null;
  /** `local_media_port`: the RTP port a recovery binds, whatever the target's range (FINDINGS.md e, g). */
  mediaPort: number | null;
  /** The host part of `sip_recover_via` (the Via the re-INVITE will carry). */
  viaHost: string | null;
  /** `sip_invite_cseq` when set (by an earlier migration). */
  inviteCseq: number | null;
}

/** Where the re-INVITE and its media go after the rewrite: the target's addresses. */
export interface MetadataRewrite {
  mediaIp: string;
  sipIp: string;
  /** Addresses of the farm's hosts that may be named in routing variables (replaced by `sipIp`). */
  farmAddresses: readonly string[];
  /** The CSeq of the re-INVITE: above any the peer has seen. */
  inviteCseq: number;
  /**
   * A `local_media_port` free on the target. FreeSWITCH binds the recovered leg's RTP there with SO_REUSEADDR, so a
   * port in use by another call on the target is shared without an error and the audio of the two calls crosses
   * (FINDINGS.md g). Only replaced where the metadata has one (a leg without media has nothing to bind).
   */
  mediaPort?: number;
}

const MEDIA_VARS: ReadonlySet<string> = new Set(['local_media_ip', 'advertised_media_ip']);
const ROUTE_VARS: ReadonlySet<string> = new Set([
  'sip_recover_via',
  'sip_invite_route_uri',
  'sip_invite_record_route',
]);

/** The value of one channel variable (decoded), or null. A value that does not decode is returned raw. */
export function variable(xml: string, name: string): string | null {
  return variables(xml).get(name) ?? null;
}

/** Every channel variable of the metadata (decoded), in one pass over `<variables>`. */
export function variables(xml: string, only?: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  const section = variablesSection(xml);
  if (!section) return out;
  // FreeSWITCH writes each variable as a flat element whose text is URL-encoded (no nested tags, no `<` in it).
  const re = /<([A-Za-z0-9_.:-]+)>([^<]*)<\/\1>/g;
  re.lastIndex = section.start;
  for (let m = re.exec(xml); m && m.index < section.end; m = re.exec(xml)) {
    const name = m[1]!;
    if ((only === undefined || only.has(name)) && !out.has(name)) out.set(name, decode(m[2]!));
  }
  return out;
}

const FACT_VARS = new Set([
  'signal_bond',
  'originate_signal_bond',
  'conference_name',
  'domain_name',
  'sip_req_host',
  'sip_to_host',
  'sip_call_id',
  'caller_id_number',
  'sip_from_user',
  'destination_number',
  'sip_to_user',
  'sip_req_user',
  'direction',
  'local_media_ip',
  'local_media_port',
  'sip_recover_via',
  'sip_invite_cseq',
]);

export function metadataFacts(xml: string): MetadataFacts {
  const all = variables(xml, FACT_VARS);
  const v = (n: string): string | null => {
    const s = all.get(n);
    return s === undefined || s === '' ? null : s;
  };
  const direction = v('direction');
  const via = v('sip_recover_via');
  return {
    partner: v('signal_bond') ?? v('originate_signal_bond'),
    conference: v('conference_name'),
    domain: v('domain_name') ?? v('sip_req_host') ?? v('sip_to_host'),
    callId: v('sip_call_id'),
    caller: v('caller_id_number') ?? v('sip_from_user'),
    callee: v('destination_number') ?? v('sip_to_user') ?? v('sip_req_user'),
    direction: direction === 'inbound' || direction === 'outbound' ? direction : null,
    mediaIp: v('local_media_ip'),
    mediaPort: numberOrNull(v('local_media_port')),
    viaHost: via ? viaHostOf(via) : null,
    inviteCseq: numberOrNull(v('sip_invite_cseq')),
  };
}

function numberOrNull(s: string | null): number | null {
  const n = Number(s ?? NaN);
  return Number.isFinite(n) ? n : null;
}

/**
 * The metadata as the target must find it: media IPs the target's, every farm address in the routing variables the
 * target's SIP address, `sip_invite_cseq` set. Variables absent stay absent (a leg without a Via to recover has
 * none to rewrite), except `sip_invite_cseq`, which FreeSWITCH reads when present.
 */
export function rewriteMetadata(xml: string, r: MetadataRewrite): string {
  const section = variablesSection(xml);
  if (!section) return xml;
  const others = r.farmAddresses.filter((a) => a !== r.sipIp);
  const hosts = others.length > 0 ? hostPattern(others) : null;
  // The few elements to change are found with indexOf (a CDR has some 200 variables; thousands of rows at once).
  const edits: { at: number; end: number; text: string }[] = [];
  const edit = (name: string, next: (current: string) => string | null): boolean => {
    const open = `<${name}>`;
    const at = xml.indexOf(open, section.start);
    if (at < 0 || at >= section.end) return false;
    const from = at + open.length;
    const end = xml.indexOf(`</${name}>`, from);
    if (end < 0 || end > section.end) return false;
    const text = next(xml.slice(from, end));
    if (text !== null) edits.push({ at: from, end, text });
    return true;
  };
  for (const name of MEDIA_VARS) edit(name, () => encodeURIComponent(r.mediaIp));
  const port = r.mediaPort;
  if (port !== undefined) edit('local_media_port', () => String(port));
  if (hosts)
    for (const name of ROUTE_VARS)
      edit(name, (raw) => {
        const current = decode(raw);
        const next = current.replace(hosts, (_m, pre: string) => `${pre}${r.sipIp}`);
        return next === current ? null : encodeURIComponent(next);
      });
  const hasCseq = edit('sip_invite_cseq', () => String(r.inviteCseq));
  edits.sort((x, y) => x.at - y.at);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    out += xml.slice(pos, e.at) + e.text;
    pos = e.end;
  }
  out += xml.slice(pos, section.end);
  if (!hasCseq) out += element('sip_invite_cseq', String(r.inviteCseq));
  return out + xml.slice(section.end);
}

/** The next CSeq for a re-INVITE: past the one in the metadata, and past the clock (as FreeSWITCH derives it). */
export function nextInviteCseq(current: number | null, nowMs: number): number {
  // FreeSWITCH starts a dialog's CSeq from the clock; a target whose clock lags would go below the peer's.
  const fromClock = Math.floor(nowMs / 1000) % 2_000_000_000;
  return Math.max(current === null ? 0 : current + 100, fromClock);
}

function viaHostOf(via: string): string | null {
  // `SIP/2.0/UDP 127.0.0.21:5060;rport;branch=…`: the sent-by host.
  const m = /^\s*SIP\/2\.0\/[A-Za-z]+\s+(\[[^\]]+\]|[^:;\s]+)/.exec(via);
  return m?.[1] ?? null;
}

/** Any of `hosts` where it stands as a whole host (not inside a longer address such as 127.0.0.210). */
function hostPattern(hosts: readonly string[]): RegExp {
  return new RegExp(
    `(^|[^0-9A-Za-z.\\-])(?:${hosts.map(escapeRe).join('|')})(?![0-9A-Za-z\\-]|\\.[0-9A-Za-z])`,
    'g',
  );
}

function variablesSection(xml: string): { start: number; end: number } | null {
  const open = xml.indexOf('<variables>');
  if (open < 0) return null;
  const start = open + '<variables>'.length;
  const end = xml.indexOf('</variables>', start);
  return end < 0 ? null : { start, end };
}

function element(name: string, value: string): string {
  return `<${name}>${encodeURIComponent(value)}</${name}>`;
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
