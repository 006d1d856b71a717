import { randomUUID } from 'node:crypto';
import type { SimFreeswitch } from './host.ts';
import { makeEvent } from './events.ts';
import { showCalls, showChannels } from './show.ts';

/**
 * The api commands the simulator knows, with the replies of mod_commands / mod_conference / mod_sofia
 * (v1.10.12). Anything else answers `-ERR <cmd> Command not found!` (mod_event_socket.c:1561).
 */
export async function runApi(h: SimFreeswitch, command: string, arg: string): Promise<string> {
  const words = arg.split(' ').filter((w) => w !== '');
  switch (command.toLowerCase()) {
    case 'status':
      return status(h);
    case 'global_getvar':
      return globalGetvar(h, words[0] ?? '');
    case 'show':
      return show(h, words);
    case 'originate':
      return originate(h, arg);
    case 'uuid_kill':
      return uuidKill(h, words);
    case 'uuid_bridge':
      return uuidBridge(h, words);
    case 'uuid_transfer':
      return uuidTransfer(h, words);
    case 'uuid_send_dtmf': {
      const c = h.chans.get(words[0] ?? '');
      if (!c) return '-ERR Cannot locate session!\n';
      return `+OK ${c.uuid} sent DTMF ${words[1] ?? ''}.\n`;
    }
    case 'uuid_record':
      return uuidRecord(h, words);
    case 'uuid_setvar': {
      const c = h.chans.get(words[0] ?? '');
      if (!c) return '-ERR No such channel!\n';
      if (words[1] === undefined) return '-ERR No variable specified\n';
      // Not a row refresh: FreeSWITCH re-tracks on answer/bridge/ACK/re-INVITE, not on uuid_setvar.
      if (words.length > 2) c.vars.set(words[1], words.slice(2).join(' '));
      else c.vars.delete(words[1]);
      return '+OK\n';
    }
    case 'conference':
      return conference(h, words);
    case 'fsctl':
      return fsctl(h, words);
    case 'sofia':
      return sofia(h, words);
    default:
      return `-ERR ${command} Command not found!\n`;
  }
}

function status(h: SimFreeswitch): string {
  const n = h.chans.size;
  return (
    `UP 0 years, 0 days, 0 hours, 0 minutes, 1 second, 0 milliseconds, 0 microseconds\n` +
    `FreeSWITCH (Version 1.10.12-release 64bit) is ${h.paused ? 'not ready' : 'ready'}\n` +
    `${n} session(s) since startup\n` +
    `${n} session(s) - peak ${n}, last 5min ${n} \n` +
    `0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n` +
    `${h.o.maxSessions} session(s) max\n` +
    `min idle cpu 0.00/98.00\n` +
    `Current Stack Size/Max 240K/8192K\n`
  );
}

function globalGetvar(h: SimFreeswitch, name: string): string {
  const vars: Record<string, string> = {
    core_uuid: h.coreUuid(),
    switchname: h.o.switchname,
    hostname: h.o.hostname,
    local_ip_v4: h.o.sipIp,
  };
  return vars[name] ?? '';
}

function show(h: SimFreeswitch, w: string[]): string {
  const what = (w[0] ?? '').toLowerCase();
  const asJson = w[1]?.toLowerCase() === 'as' && w[2]?.toLowerCase() === 'json';
  if (what === 'channels' && w[1]?.toLowerCase() === 'count') return `\n${h.chans.size} total.\n`;
  if (!asJson) return `-ERR Cannot find format ${w[2] ?? 'text'}\n`;
  if (what === 'channels') return showChannels(h.chans.values(), h.o.switchname);
  if (what === 'calls') return showCalls(h.chans, h.o.switchname);
  return '-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]\n';
}

/**
 * `originate <dial string> <exten|&app(args)> [dialplan] [context] [cid_name] [cid_num] [timeout]`.
 * Dial strings: `[{var=…}]sofia/<profile>/<user>@<domain>` and `user/<user>@<domain>` (first profile) answer at
 * once as an outbound leg; `error/<CAUSE>` fails with that cause; a profile not running here fails with
 * `-ERR NORMAL_TEMPORARY_FAILURE`, a paused host with `-ERR DESTINATION_OUT_OF_ORDER`. `&conference(NAME)` joins the leg to NAME; anything else parks it.
 */
async function originate(h: SimFreeswitch, arg: string): Promise<string> {
  const m = /^(\{[^}]*\})?(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(arg.trim());
  if (!m)
    return '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n';
  const vars = new Map<string, string>();
  for (const kv of (m[1] ?? '').slice(1, -1).split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) vars.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const dial = m[2] as string;
  const target = m[3] as string;
  const rest = (m[4] ?? '').split(' ').filter((x) => x !== '');
  if (dial.startsWith('error/')) return `-ERR ${dial.slice(6)}\n`;
  let profile: string | undefined;
  let user: string;
  let domain: string;
  const sofia = /^sofia\/([^/]+)\/([^@]+)@(.+)$/.exec(dial);
  const userForm = /^user\/([^@]+)@(.+)$/.exec(dial);
  if (sofia) [, profile, user, domain] = sofia as unknown as [string, string, string, string];
  else if (userForm) {
    profile = h.o.profiles[0];
    [, user, domain] = userForm as unknown as [string, string, string];
  } else return '-ERR CHAN_NOT_IMPLEMENTED\n';
  // A paused host refuses new sessions: DESTINATION_OUT_OF_ORDER (recorded on 1.10.12, fixtures/fsctl-pause).
  if (!h.up || h.paused) return '-ERR DESTINATION_OUT_OF_ORDER\n';
  if (profile === undefined || !h.o.profiles.includes(profile)) return '-ERR NORMAL_TEMPORARY_FAILURE\n';
  const conf = /^&conference\(([^)@]+)(?:@[^)]*)?\)$/.exec(target);
  const app = target.startsWith('&') ? (/^&([^(]+)/.exec(target)?.[1] ?? 'park') : 'transfer';
  const appData = target.startsWith('&') ? (/\((.*)\)$/.exec(target)?.[1] ?? '') : target;
  const c = h.newChannel({
    direction: 'outbound',
    profile,
    domain,
    callId: `${randomUUID()}@${h.o.sipIp}`,
    caller: vars.get('origination_caller_id_number') ?? rest[3] ?? '0000000000',
    callerName: vars.get('origination_caller_id_name') ?? rest[2] ?? 'FreeSWITCH',
    callee: user,
    app,
    appData,
    peer: 'rport',
    ...(vars.has('origination_uuid') ? { uuid: vars.get('origination_uuid') } : {}),
  });
  if (h.chans.has(c.uuid)) return '-ERR NORMAL_TEMPORARY_FAILURE\n';
  c.state = 'CS_EXECUTE';
  c.extension = [{ app, data: appData }];
  for (const [k, v] of vars) c.vars.set(k, v);
  h.chans.set(c.uuid, c);
  h.fireChannel('CHANNEL_CREATE', c);
  h.fireChannel('CHANNEL_ANSWER', c);
  if (conf) h.joinConference(c, conf[1] as string);
  await h.sql.insert([
    { runtimeUuid: h.coreUuid(), profile, hostname: h.o.switchname, uuid: c.uuid, metadata: h.metadataOf(c) },
  ]);
  return `+OK ${c.uuid}\n`;
}

async function uuidKill(h: SimFreeswitch, w: string[]): Promise<string> {
  if (w[0] === undefined) return '-USAGE: <uuid> [cause]\n';
  const c = h.chans.get(w[0]);
  if (!c) return '-ERR No such channel!\n';
  await h.hangupCall(c, w[1] ?? 'NORMAL_CLEARING');
  return '+OK\n';
}

function uuidBridge(h: SimFreeswitch, w: string[]): string {
  if (w.length < 2) return '-USAGE: <uuid> <other_uuid>\n';
  const a = h.chans.get(w[0] as string);
  const b = h.chans.get(w[1] as string);
  if (!a || !b || a === b) return '-ERR Invalid uuid\n';
  for (const x of [a, b]) {
    h.leaveConference(x);
    const old = h.unbridge(x);
    if (old && old !== a && old !== b) void h.hangupLeg(old, 'NORMAL_CLEARING').catch(() => undefined);
  }
  h.bridgeLegs(a, b, true);
  return `+OK ${b.uuid}\n`;
}

/** `uuid_transfer <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]`: a blind transfer. */
function uuidTransfer(h: SimFreeswitch, w: string[]): string {
  const c = h.chans.get(w[0] ?? '');
  if (!c) return '-ERR No such channel!\n';
  let i = 1;
  let who = c;
  if (w[1] === '-bleg' || w[1] === '-both') {
    i = 2;
    if (w[1] === '-bleg' && c.bridgedTo !== undefined) who = h.chans.get(c.bridgedTo) ?? c;
  }
  const dest = w[i];
  if (dest === undefined) return '-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n';
  const partner = h.unbridge(who);
  // The transferred leg leaves its bridge; the other leg hangs up (hangup_after_bridge), as with a REFER.
  if (partner) void h.hangupLeg(partner, 'NORMAL_CLEARING').catch(() => undefined);
  h.leaveConference(who);
  who.destNumber = dest;
  who.app = 'transfer';
  who.appData = dest;
  h.fireChannel('CHANNEL_EXECUTE', who, [
    ['Application', 'transfer'],
    ['Application-Data', dest],
  ]);
  return '+OK\n';
}

function uuidRecord(h: SimFreeswitch, w: string[]): string {
  const c = h.chans.get(w[0] ?? '');
  if (!c) return '-ERR Cannot locate session!\n';
  const action = (w[1] ?? '').toLowerCase();
  const path = w[2] ?? '';
  if (action === 'start') h.fireChannel('RECORD_START', c, [['Record-File-Path', path]]);
  else if (action === 'stop') h.fireChannel('RECORD_STOP', c, [['Record-File-Path', path]]);
  else return '-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n';
  return '+OK Success\n';
}

async function conference(h: SimFreeswitch, w: string[]): Promise<string> {
  const name = w[0];
  if (name === undefined || name === 'list') {
    if (h.conferences.size === 0) return '+OK No active conferences.\n';
    let out = '';
    for (const [n, conf] of h.conferences) {
      out += `+OK Conference ${n} (${conf.members.size} member${conf.members.size === 1 ? '' : 's'} rate: 8000 flags: running|answered|enforce_min|dynamic|exit_sound|enter_sound)\n`;
      out += memberLines(h, n);
    }
    return out;
  }
  const conf = h.conferences.get(name);
  if (!conf) return `-ERR Conference ${name} not found\n`;
  switch ((w[1] ?? '').toLowerCase()) {
    case 'list':
      return memberLines(h, name);
    case 'kick': {
      const id = Number(w[2]);
      const uuid = conf.members.get(id);
      const c = uuid === undefined ? undefined : h.chans.get(uuid);
      if (!c) return `-ERR Non-Existant ID ${w[2] ?? ''}\n`;
      h.leaveConference(c);
      await h.hangupCall(c, 'NORMAL_CLEARING');
      return `+OK kicked ${id}\n`;
    }
    default:
      return `-ERR Unknown command ${w[1] ?? ''}\n`;
  }
}

/** conference_list (mod_conference.c:71) with delimiter `;`. */
function memberLines(h: SimFreeswitch, name: string): string {
  const conf = h.conferences.get(name);
  let out = '';
  for (const [id, uuid] of [...(conf?.members ?? [])].sort((a, b) => b[0] - a[0])) {
    const c = h.chans.get(uuid);
    if (!c) continue;
    const chan = `sofia/${c.profile}/${c.direction === 'inbound' ? c.callerNumber : c.destNumber}@${c.domain}`;
    out += `${id};${chan};${uuid};${c.callerName};${c.callerNumber};hear|speak;0;0;300\n`;
  }
  return out;
}

/** mod_commands.c:2425 ctl_function. */
async function fsctl(h: SimFreeswitch, w: string[]): Promise<string> {
  switch ((w[0] ?? '').toLowerCase()) {
    case 'pause':
      h.paused = true;
      return '+OK\n';
    case 'resume':
      h.paused = false;
      return '+OK\n';
    case 'pause_check':
      // mod_commands.c:2514: "true"/"false" with no newline (inbound/outbound are one flag here).
      return h.paused ? 'true' : 'false';
    case 'ready_check':
      return 'true';
    case 'shutdown_check':
      return 'false';
    case 'crash':
      // The process dies inside the command: no reply ever leaves (observed on 1.10.12).
      await h.crash();
      return '';
    case 'shutdown':
      // Treated as the spec's "stop without signalling": the reply leaves, then the process is gone, rows stay.
      setImmediate(() => void h.crash());
      return '+OK\n';
    case 'recover': {
      // SCSC_RECOVER (switch_core.c:2664): `tech[:profile]`.
      const spec = w[1];
      let tech: string | undefined;
      let prof: string | undefined;
      if (spec !== undefined && spec !== '') {
        const i = spec.indexOf(':');
        tech = i < 0 ? spec : spec.slice(0, i);
        prof = i < 0 ? undefined : spec.slice(i + 1);
      }
      const n = await h.recover(tech, prof);
      return `+OK ${n} session(s) recovered in total\n`;
    }
    default:
      return '-USAGE: [api_expansion [on|off]|recover|send_sighup|hupall|pause [inbound|outbound]|resume [inbound|outbound]|shutdown [cancel|elegant|asap|now|restart]|sps|sps_peak_reset|sync_clock|sync_clock_when_idle|reclaim_mem|max_sessions|min_dtmf_duration [num]|max_dtmf_duration [num]|default_dtmf_duration [num]|min_idle_cpu|loglevel [level]|debug_level [level]|mdns_resolve [enable|disable]]\n';
  }
}

/** `sofia recover` (mod_sofia.c:4585) runs the recovery once per running profile; `sofia profile P recover` (:3638). */
async function sofia(h: SimFreeswitch, w: string[]): Promise<string> {
  if ((w[0] ?? '').toLowerCase() === 'recover') {
    let n = 0;
    for (const p of h.o.profiles) n += await h.recover('sofia', p);
    h.fire(
      makeEvent(h.origin(), 'CUSTOM', [['recovered_calls', String(n)]], {
        subclass: 'sofia::recovery_recovered',
      }),
    );
    return n > 0 ? `Recovered ${n} call(s)\n` : 'No calls to recover.\n';
  }
  if ((w[0] ?? '').toLowerCase() === 'profile' && (w[2] ?? '').toLowerCase() === 'recover') {
    const p = w[1] ?? '';
    if (!h.o.profiles.includes(p)) return `Invalid Profile [${p}]`;
    const n = await h.recover('sofia', p);
    return n > 0 ? `Recovered ${n} session(s)\n` : 'No sessions to recover.\n';
  }
  return '-ERR Usage: sofia recover | sofia profile <name> recover\n';
}
