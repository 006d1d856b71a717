import type { ChannelRec } from './channel.ts';
import { channelName } from './channel.ts';

/**
 * `show channels as json` / `show calls as json` (mod_commands.c:5858, :5817): rows of the `channels` table and of
 * the `basic_calls` view for this switchname, every value a string, `{"row_count": 0}` when empty.
 */

function created(us: number): string {
  const d = new Date(us / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The columns of FreeSWITCH's `channels` table (switch_core_sqldb.c:2853), in order. */
export function channelRow(c: ChannelRec, hostname: string): Record<string, string> {
  return {
    uuid: c.uuid,
    direction: c.direction,
    created: created(c.createdUs),
    created_epoch: String(Math.floor(c.createdUs / 1e6)),
    name: channelName(c),
    state: c.state,
    cid_name: c.callerName,
    cid_num: c.callerNumber,
    ip_addr: c.vars.get('sip_network_ip') ?? '',
    dest: c.destNumber,
    application: c.app,
    application_data: c.appData,
    dialplan: 'XML',
    context: 'default',
    read_codec: 'PCMU',
    read_rate: '8000',
    read_bit_rate: '64000',
    write_codec: 'PCMU',
    write_rate: '8000',
    write_bit_rate: '64000',
    secure: '',
    hostname,
    presence_id: `${c.callerNumber}@${c.domain}`,
    presence_data: '',
    accountcode: '',
    callstate: c.callState,
    callee_name: c.direction === 'inbound' ? '' : c.callerName,
    callee_num: c.direction === 'inbound' ? '' : c.destNumber,
    callee_direction: c.bridgedTo === undefined ? '' : 'SEND',
    call_uuid: c.uuid,
    sent_callee_name: '',
    sent_callee_num: '',
    initial_cid_name: c.callerName,
    initial_cid_num: c.callerNumber,
    initial_ip_addr: c.vars.get('sip_network_ip') ?? '',
    initial_dest: c.destNumber,
    initial_dialplan: 'XML',
    initial_context: 'default',
  };
}

export function showChannels(chans: Iterable<ChannelRec>, hostname: string): string {
  const rows = [...chans].sort((a, b) => a.createdUs - b.createdUs).map((c) => channelRow(c, hostname));
  return rows.length === 0 ? '{"row_count": 0}\n' : JSON.stringify({ row_count: rows.length, rows });
}

const A_COLS = [
  'uuid',
  'direction',
  'created',
  'created_epoch',
  'name',
  'state',
  'cid_name',
  'cid_num',
  'ip_addr',
  'dest',
];
const A_COLS2 = [
  'presence_id',
  'presence_data',
  'accountcode',
  'callstate',
  'callee_name',
  'callee_num',
  'callee_direction',
  'call_uuid',
  'hostname',
  'sent_callee_name',
  'sent_callee_num',
];
const B_COLS = [
  'uuid',
  'direction',
  'created',
  'created_epoch',
  'name',
  'state',
  'cid_name',
  'cid_num',
  'ip_addr',
  'dest',
  'presence_id',
  'presence_data',
  'accountcode',
  'callstate',
  'callee_name',
  'callee_num',
  'callee_direction',
  'sent_callee_name',
  'sent_callee_num',
];

/** The `basic_calls` view (switch_core_sqldb.c:3078): one row per call (A leg with its B columns) or lone channel. */
export function showCalls(all: Map<string, ChannelRec>, hostname: string): string {
  const rows: Record<string, string>[] = [];
  const sorted = [...all.values()].sort((a, b) => a.createdUs - b.createdUs);
  for (const c of sorted) {
    const partner = c.bridgedTo === undefined ? undefined : all.get(c.bridgedTo);
    if (partner && !c.originator) continue;
    const a = channelRow(c, hostname);
    const b = partner ? channelRow(partner, hostname) : undefined;
    const row: Record<string, string> = {};
    for (const k of [...A_COLS, ...A_COLS2]) row[k] = a[k] ?? '';
    for (const k of B_COLS) row[`b_${k}`] = b?.[k] ?? '';
    row['call_created_epoch'] = b ? String(Math.floor(c.bridgedUs / 1e6)) : '';
    rows.push(row);
  }
  return rows.length === 0 ? '{"row_count": 0}\n' : JSON.stringify({ row_count: rows.length, rows });
}
