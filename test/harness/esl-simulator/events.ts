import { fsUrlEncode } from './framing.ts';

/**
 * A FreeSWITCH event as the simulator fires it: ordered headers (switch_event_t keeps insertion order, and the
 * plain and JSON serialisations both follow it) and an optional body.
 */
export interface SimEvent {
  readonly name: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
}

/** The host facts every event carries (switch_event_prep_for_delivery_detailed, switch_event.c). */
export interface EventOrigin {
  coreUuid: string;
  hostname: string;
  switchname: string;
  ipv4: string;
  nextSequence(): number;
}

/** Microseconds since the epoch, as FreeSWITCH's switch_micro_time_now. */
export function microNow(): number {
  return Date.now() * 1000;
}

function dateLocal(us: number): string {
  const d = new Date(us / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * Builds an event: `Event-Name` (and `Event-Subclass` for CUSTOM) first, then the headers FreeSWITCH adds at
 * delivery (Core-UUID, FreeSWITCH-Hostname/-Switchname/-IPv4, dates, Event-Sequence), then the event's own.
 */
export function makeEvent(
  origin: EventOrigin,
  name: string,
  own: readonly (readonly [string, string])[],
  opts: { subclass?: string; body?: string } = {},
): SimEvent {
  const us = microNow();
  const headers: [string, string][] = [['Event-Name', name]];
  if (opts.subclass !== undefined) headers.push(['Event-Subclass', opts.subclass]);
  headers.push(
    ['Core-UUID', origin.coreUuid],
    ['FreeSWITCH-Hostname', origin.hostname],
    ['FreeSWITCH-Switchname', origin.switchname],
    ['FreeSWITCH-IPv4', origin.ipv4],
    ['FreeSWITCH-IPv6', '::1'],
    ['Event-Date-Local', dateLocal(us)],
    ['Event-Date-GMT', new Date(us / 1000).toUTCString()],
    ['Event-Date-Timestamp', String(us)],
    ['Event-Calling-File', 'switch_simulator.c'],
    ['Event-Calling-Function', 'esl_simulator'],
    ['Event-Calling-Line-Number', '1'],
    ['Event-Sequence', String(origin.nextSequence())],
  );
  for (const h of own) headers.push([h[0], h[1]]);
  return opts.body === undefined ? { name, headers } : { name, headers, body: opts.body };
}

/** switch_event_serialize(…, encode=TRUE) (switch_event.c:1585-1630): URL-encoded values, `_undef_` for empty. */
export function serializePlain(e: SimEvent, surrogates: boolean): string {
  let out = '';
  for (const [k, v] of e.headers) {
    const enc = fsUrlEncode(v, surrogates);
    out += `${k}: ${enc === '' ? '_undef_' : enc}\n`;
  }
  if (e.body !== undefined && e.body !== '')
    out += `Content-Length: ${Buffer.byteLength(e.body)}\n\n${e.body}`;
  else out += '\n';
  return out;
}

/** switch_event_serialize_json_obj (switch_event.c:1818): headers as strings, then Content-Length and _body. */
export function serializeJson(e: SimEvent): string {
  const o: Record<string, string> = {};
  for (const [k, v] of e.headers) o[k] = v;
  if (e.body !== undefined) {
    o['Content-Length'] = String(Buffer.byteLength(e.body));
    o['_body'] = e.body;
  }
  return JSON.stringify(o);
}

/** Looks a header up case-insensitively, as switch_event_get_header does. */
export function headerOf(e: SimEvent, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of e.headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}
