/**
 * Syslog messages as received: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) and the BSD format of
 * RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG[pid]: MSG`). Anything without a valid `<PRI>` is not syslog (garbage);
 * within a message the parser is lenient as RFC 3164 §4.3 asks of relays: a missing timestamp or host is left out,
 * and the sender's address stands in for the host.
 */

export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164';
  /** 0 (kern) … 23 (local7). */
  facility: number;
  /** 0 (emerg) … 7 (debug). */
  severity: number;
  host: string;
  /** RFC 3164 TAG, RFC 5424 APP-NAME; empty when the message names none. */
  program: string;
  message: string;
}

const PRI = /^<(\d{1,3})>/;
const BSD_TIME = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /;
const BSD_TAG = /^([^\s:[\]]{1,48})(?:\[[^\]\s]*\])?: ?/;
const MAX_PRI = 191;

/** Parses one message; undefined when it is not syslog at all. `sender` is the peer's address. */
export function parseSyslog(raw: string, sender: string): SyslogMessage | undefined {
  const text = raw.replace(/[\r\n\0]+$/, '');
  const pri = PRI.exec(text);
  if (!pri) return undefined;
  const value = Number(pri[1]);
  if (value > MAX_PRI || (pri[1]!.length > 1 && pri[1]!.startsWith('0'))) return undefined;
  const rest = text.slice(pri[0].length);
  const facility = value >> 3;
  const severity = value & 7;
  return rest.startsWith('1 ')
    ? parse5424(rest.slice(2), facility, severity, sender)
    : parse3164(rest, facility, severity, sender);
}

function parse5424(
  rest: string,
  facility: number,
  severity: number,
  sender: string,
): SyslogMessage | undefined {
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    const sp = rest.indexOf(' ', at);
    if (sp < 0) return undefined;
    fields.push(rest.slice(at, sp));
    at = sp + 1;
  }
  const sdEnd = structuredDataEnd(rest, at);
  if (sdEnd === undefined) return undefined;
  const message = rest.slice(rest[sdEnd] === ' ' ? sdEnd + 1 : sdEnd).replace(/^\uFEFF/, '');
  const [, host, app] = fields as [string, string, string];
  return {
    format: 'rfc5424',
    facility,
    severity,
    host: host === '-' ? sender : host,
    program: app === '-' ? '' : app,
    message,
  };
}

/** Index just past STRUCTURED-DATA starting at `at` (`-` or `[…]…`, with `\]` escapes), or undefined if malformed. */
function structuredDataEnd(s: string, at: number): number | undefined {
  if (s[at] === '-') return at + 1;
  let i = at;
  if (s[i] !== '[') return undefined;
  while (s[i] === '[') {
    i++;
    while (i < s.length && s[i] !== ']') i += s[i] === '\\' ? 2 : s[i] === '"' ? quotedEnd(s, i) - i : 1;
    if (i >= s.length) return undefined;
    i++;
  }
  return i;
}

function quotedEnd(s: string, open: number): number {
  let i = open + 1;
  while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
  return i + 1;
}

function parse3164(rest: string, facility: number, severity: number, sender: string): SyslogMessage {
  let body = rest;
  let host = sender;
  if (BSD_TIME.test(body)) {
    body = body.slice(16);
    const sp = body.indexOf(' ');
    // A host name holds no colon unless it is an IPv6 address; "TAG:" right after the time means no host.
    const word = sp < 0 ? body : body.slice(0, sp);
    if (sp > 0 && !(word.endsWith(':') || /\[\d*\]:?$/.test(word))) {
      host = word;
      body = body.slice(sp + 1);
    }
  } else {
    // No timestamp (senders such as `logger --rfc3164` without one, or relays that strip it): "HOST TAG: MSG".
    const hostFirst = /^([^\s:[\]]+) (?=[^\s:[\]]{1,48}(?:\[[^\]\s]*\])?: )/.exec(body);
    if (hostFirst) {
      host = hostFirst[1]!;
      body = body.slice(hostFirst[0].length);
    }
  }
  const tag = BSD_TAG.exec(body);
  return {
    format: 'rfc3164',
    facility,
    severity,
    host,
    program: tag ? tag[1]! : '',
    message: tag ? body.slice(tag[0].length) : body,
  };
}
