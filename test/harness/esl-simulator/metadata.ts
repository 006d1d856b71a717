import type { ChannelRec } from './channel.ts';
import { channelName, channelVariables, STATE_NUMBER } from './channel.ts';
import { fsUrlDecode, fsUrlEncode } from './framing.ts';

/**
 * The `metadata` column: the channel's XML CDR as switch_ivr_generate_xml_cdr writes it (switch_ivr.c:2862) and
 * switch_xml_toxml prints it (two-space indent, switch_xml.c:2619) — `<cdr core-uuid switchname>` with
 * `channel_data`, `call-stats`, `variables` (each value URL-encoded, switch_ivr.c:2814) and `callflow`
 * (`extension` with its applications, `caller_profile`, `times`).
 */

/** switch_channel_flag_t numbers used here (switch_types.h:1166…). */
export const CF = { ANSWERED: 1, OUTBOUND: 2, BRIDGE_ORIGINATOR: 4, BRIDGED: 9, TRACKABLE: 89 } as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unesc(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export function buildMetadata(c: ChannelRec, coreUuid: string, switchname: string): string {
  const flags: number[] = [CF.ANSWERED];
  if (c.direction === 'outbound') flags.push(CF.OUTBOUND);
  if (c.originator && c.bridgedTo !== undefined) flags.push(CF.BRIDGE_ORIGINATOR);
  if (c.bridgedTo !== undefined) flags.push(CF.BRIDGED);
  flags.push(CF.TRACKABLE);
  const L: string[] = [];
  L.push(`<cdr core-uuid="${esc(coreUuid)}" switchname="${esc(switchname)}">`);
  L.push('  <channel_data>');
  L.push(`    <state>${c.state}</state>`);
  L.push(`    <direction>${c.direction}</direction>`);
  L.push(`    <state_number>${STATE_NUMBER[c.state] ?? 0}</state_number>`);
  L.push(`    <flags>${flags.map((f) => `${f}=1`).join(';')}</flags>`);
  L.push('    <caps>1=1;2=1;3=1;4=1;5=1;6=1;8=1;9=1</caps>');
  L.push('  </channel_data>');
  L.push('  <call-stats>');
  L.push('    <audio>');
  L.push('      <inbound>');
  L.push('        <raw_bytes>0</raw_bytes>');
  L.push('      </inbound>');
  L.push('    </audio>');
  L.push('  </call-stats>');
  L.push('  <variables>');
  for (const [k, v] of channelVariables(c, switchname)) L.push(`    <${k}>${esc(fsUrlEncode(v))}</${k}>`);
  L.push('  </variables>');
  L.push(`  <callflow dialplan="XML" unique-id="${c.uuid}" profile_index="1">`);
  if (c.extension.length > 0) {
    L.push(
      `    <extension name="${esc(c.destNumber)}" number="${esc(c.destNumber)}" current_app="${esc(c.app)}">`,
    );
    for (const a of c.extension) {
      const last = a.app === c.app ? ' last_executed="true"' : '';
      L.push(`      <application${last} app_name="${esc(a.app)}" app_data="${esc(a.data)}"></application>`);
    }
    L.push('    </extension>');
  }
  L.push('    <caller_profile>');
  const cp: [string, string][] = [
    ['username', c.callerNumber],
    ['dialplan', 'XML'],
    ['caller_id_name', c.callerName],
    ['caller_id_number', c.callerNumber],
    ['callee_id_name', ''],
    ['callee_id_number', ''],
    ['ani', c.callerNumber],
    ['aniii', ''],
    ['network_addr', c.vars.get('sip_network_ip') ?? ''],
    ['rdnis', ''],
    ['destination_number', c.destNumber],
    ['uuid', c.uuid],
    ['source', 'mod_sofia'],
    ['context', 'default'],
    ['chan_name', channelName(c)],
  ];
  for (const [k, v] of cp) L.push(`      <${k}>${esc(v)}</${k}>`);
  L.push('    </caller_profile>');
  L.push('    <times>');
  const times: [string, number][] = [
    ['created_time', c.createdUs],
    ['profile_created_time', c.createdUs],
    ['progress_time', 0],
    ['progress_media_time', 0],
    ['answered_time', c.answeredUs],
    ['bridged_time', c.bridgedUs],
    ['last_hold_time', 0],
    ['hold_accum_time', 0],
    ['hangup_time', 0],
    ['resurrect_time', c.resurrectUs],
    ['transfer_time', 0],
  ];
  for (const [k, v] of times) L.push(`      <${k}>${v}</${k}>`);
  L.push('    </times>');
  L.push('  </callflow>');
  L.push('</cdr>');
  return L.join('\n') + '\n';
}

/** What a recovery reads back from a row (switch_core_session_request_xml, switch_core_session.c:2144). */
export interface ParsedMetadata {
  direction: 'inbound' | 'outbound';
  flags: Set<number>;
  /** URL-decoded, in document order. */
  vars: Map<string, string>;
  caller: Map<string, string>;
  times: Map<string, number>;
  extension: { app: string; data: string }[];
}

function section(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m?.[1];
}

function leaves(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of body.matchAll(/<([A-Za-z0-9_.:-]+)(?:\s[^>]*)?>([^<]*)<\/\1>/g)) {
    if (!out.has(m[1] as string)) out.set(m[1] as string, unesc(m[2] as string));
  }
  return out;
}

/** Returns undefined where FreeSWITCH logs "XML ERROR" (unparsable metadata). */
export function parseMetadata(xml: string): ParsedMetadata | undefined {
  if (!/<cdr[\s>]/.test(xml)) return undefined;
  const cd = leaves(section(xml, 'channel_data') ?? '');
  const vars = new Map<string, string>();
  for (const [k, v] of leaves(section(xml, 'variables') ?? '')) vars.set(k, fsUrlDecode(v));
  const callflow = section(xml, 'callflow') ?? '';
  // The main caller_profile, without the nested originator/originatee profiles.
  const cpRaw = (section(callflow, 'caller_profile') ?? '').replace(
    /<(origination|originator|originatee)>[\s\S]*?<\/\1>/g,
    '',
  );
  const times = new Map<string, number>();
  for (const [k, v] of leaves(section(callflow, 'times') ?? '')) times.set(k, Number(v));
  const extension: { app: string; data: string }[] = [];
  for (const m of (section(callflow, 'extension') ?? '').matchAll(/<application\s([^>]*?)\/?>/g)) {
    const attrs = m[1] as string;
    const app = /app_name="([^"]*)"/.exec(attrs)?.[1];
    const data = /app_data="([^"]*)"/.exec(attrs)?.[1] ?? '';
    if (app !== undefined) extension.push({ app: unesc(app), data: unesc(data) });
  }
  const flags = new Set<number>();
  for (const p of (cd.get('flags') ?? '').split(';')) {
    const [k, v] = p.split('=');
    if (k !== undefined && v !== undefined && Number(v) !== 0) flags.add(Number(k));
  }
  return {
    direction: cd.get('direction') === 'outbound' ? 'outbound' : 'inbound',
    flags,
    vars,
    caller: leaves(cpRaw),
    times,
    extension,
  };
}
