import { posix } from 'node:path';
import { CallFailed, CallNotFound, CallRefused, RecordPathRefused } from '../../src/freeswitch/errors.ts';
import type { Conference, Participant } from './call-manager-protocol.ts';

/**
 * The call manager's ESL commands and what FreeSWITCH answers to them (mod_commands and mod_conference, v1.10.12).
 * Commands are built from values the request schemas already narrowed (call-manager-protocol.ts); {@link eslLine}
 * checks once more that each word is one word, so no input can ever become a second line or a `{…}` block.
 */

/** One ESL command line from words the caller built; a word with a blank, a line break or a brace is refused. */
export function eslLine(...words: string[]): string {
  return words.map(word).join(' ');
}

function word(w: string): string {
  if (w === '' || /[\s{}\0]/u.test(w)) throw new Error(`refusing an ESL word ${JSON.stringify(w)}`);
  return w;
}

/** `{k=v,…}`: channel variables for originate, the values already narrowed (no `,` `}` `'` or blank). */
export function varBlock(vars: Readonly<Record<string, string>>): string {
  const parts = Object.entries(vars).map(([k, v]) => {
    if (!/^[a-z_]+$/.test(k) || /[\s,{}'"\0]/u.test(v) || v === '')
      throw new Error(`refusing a channel variable ${JSON.stringify(k)}=${JSON.stringify(v)}`);
    return `${k}=${v}`;
  });
  return `{${parts.join(',')}}`;
}

export interface OriginateCommand {
  uuid: string;
  from: string;
  to: string;
  domain: string;
  context: string;
  callerIdNumber: string;
  callerIdName: string;
  timeoutS: number;
}

/**
 * `originate {origination_uuid=…,…}user/<from>@<domain> <to> XML <context>`: rings `from` (the directory user),
 * then sends the answered leg to `to` in the dialplan. The uuid is ours, so the call is known by it before it
 * answers.
 */
export function originateCommand(o: OriginateCommand): string {
  const vars = varBlock({
    origination_uuid: o.uuid,
    origination_caller_id_number: o.callerIdNumber,
    origination_caller_id_name: o.callerIdName,
    originate_timeout: String(o.timeoutS),
    domain_name: o.domain,
  });
  // The block is ours (varBlock checked each value); the rest are plain words.
  return `originate ${vars}${eslLine(`user/${o.from}@${o.domain}`, o.to, 'XML', o.context)}`;
}

/** Far-end causes: the called party, not the switch, decided (Q.850 as FreeSWITCH names them). */
const PARTY_CAUSES = new Set([
  'USER_BUSY',
  'NO_ANSWER',
  'NO_USER_RESPONSE',
  'CALL_REJECTED',
  'USER_NOT_REGISTERED',
  'SUBSCRIBER_ABSENT',
  'UNALLOCATED_NUMBER',
  'NO_ROUTE_DESTINATION',
  'INVALID_NUMBER_FORMAT',
  'NUMBER_CHANGED',
  'ORIGINATOR_CANCEL',
  'ALLOTTED_TIMEOUT',
  'LOSE_RACE',
  'PICKED_OFF',
  'USER_CHALLENGE',
]);

/** `+OK <uuid>`, or `-ERR <CAUSE>`: CallRefused (409) for a far-end cause, CallFailed (502) for the rest. */
export function originateResult(reply: string, host: string): string {
  const text = reply.trim();
  const ok = /^\+OK\s+(\S+)/.exec(text);
  if (ok?.[1]) return ok[1];
  const cause = causeOf(text);
  if (cause && PARTY_CAUSES.has(cause))
    throw new CallRefused(`the call was not taken: ${cause}`, { details: { cause, host } });
  throw new CallFailed(`${host} could not place the call: ${cause ?? 'unexpected reply'}`, {
    details: { cause: cause ?? 'UNKNOWN', host },
  });
}

/**
 * The reply of a `uuid_*` command: `+OK …` is success; FreeSWITCH's words for an unknown channel
 * (`-ERR No such channel!` from uuid_kill/uuid_transfer, `-ERR Cannot locate session!` from uuid_send_dtmf and
 * uuid_record) are CallNotFound; any other answer is CallFailed, with the first line of the reply if it is plain.
 */
export function uuidResult(reply: string, uuid: string, host: string): string {
  const text = reply.trim();
  if (text.startsWith('+OK')) return text;
  if (/^-ERR (No such channel|Cannot locate session|Invalid uuid)/i.test(text))
    throw new CallNotFound(`no call ${uuid}`);
  const first = (text.split('\n')[0] ?? '').slice(0, 200);
  throw new CallFailed(`${host} refused the command on ${uuid}`, {
    details: { host, cause: causeOf(text) ?? 'UNKNOWN', reply: /^[\x20-\x7e]*$/.test(first) ? first : '' },
  });
}

/** FreeSWITCH's cause word after `-ERR `, when it is one (NORMAL_TEMPORARY_FAILURE …). */
function causeOf(text: string): string | null {
  const m = /^-ERR\s+([A-Z][A-Z0-9_]{1,63})\s*$/.exec(text);
  return m?.[1] ?? null;
}

/**
 * `<dir>/<domain>/<name>`, refused unless it lies strictly inside `<dir>/<domain>/`: the name is relative, has no
 * empty, `.` or `..` segment, and normalising it changes nothing (so what FreeSWITCH opens is what was checked).
 */
export function recordingPath(dir: string, domain: string, name: string): string {
  const segments = name.split('/');
  if (name.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..'))
    throw new RecordPathRefused(
      `the recording path must be relative to the domain's recordings folder, without "..": ${JSON.stringify(name)}`,
    );
  const base = posix.join(dir, domain);
  const full = posix.join(base, name);
  if (!full.startsWith(`${base}/`) || posix.normalize(full) !== full || /[\s{}]/.test(full))
    throw new RecordPathRefused(
      `the recording path leaves the domain's recordings folder: ${JSON.stringify(name)}`,
    );
  return full;
}

/**
 * `conference list`: per conference a header `+OK Conference <name> (<n> member(s) rate: … flags: a|b)`, then its
 * member lines (see {@link parseMembers}); `+OK No active conferences.` when there are none.
 */
export function parseConferenceList(body: string, host: string): (Conference & { uuids: string[] })[] {
  const out: (Conference & { uuids: string[] })[] = [];
  for (const line of body.split('\n')) {
    const m = /^\+OK Conference (\S+) \((\d+) members?\b.*?(?:flags: ([^)]*))?\)\s*$/.exec(line.trim());
    if (m?.[1]) {
      out.push({
        name: m[1],
        host,
        members: Number(m[2]),
        flags: (m[3] ?? '').split('|').filter((f) => f !== ''),
        uuids: [],
      });
      continue;
    }
    const member = parseMembers(line, host)?.[0];
    if (member) out.at(-1)?.uuids.push(member.uuid);
  }
  return out;
}

/**
 * `conference <name> list` (conference_list, mod_conference.c, delimiter `;`):
 * `<id>;<channel name>;<uuid>;<caller id name>;<caller id number>;<flags>;<volume in>;<volume out>;<energy>…`.
 * `-ERR Conference <name> not found` yields null.
 */
export function parseMembers(body: string, host: string): Participant[] | null {
  if (/^-ERR\b/.test(body.trim())) return null;
  const out: Participant[] = [];
  for (const line of body.split('\n')) {
    const f = line.trim().split(';');
    if (f.length < 6 || !/^\d+$/.test(f[0] ?? '')) continue;
    out.push({
      member_id: Number(f[0]),
      uuid: f[2] ?? '',
      caller_name: f[3] ?? '',
      caller_number: f[4] ?? '',
      flags: (f[5] ?? '').split('|').filter((x) => x !== ''),
      host,
    });
  }
  return out;
}
