/**
 * Events as mware sees them: a name, a flat map of header strings, a body. The parse step is deliberately
 * generic — the host actor turns these into its own typed call events — so this file only normalises what
 * FreeSWITCH's two wire formats (json, plain) put in a header.
 */

/** One event, headers decoded (URL-decoding guarded: a bad %-sequence keeps the raw text), body if any. */
export interface EslEvent {
  name: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
}

/** An event as modesl's `Event` holds it: headers in arrival order, values as the wire format gave them. */
export interface RawEventData {
  readonly headers: readonly { readonly name: string; readonly value: unknown }[];
  readonly body?: string;
}

/**
 * `decodeURIComponent`, except that a value it cannot decode is kept as it came. FreeSWITCH URL-encodes plain
 * event headers byte by byte, and it encodes an emoji from a SIP display name as two CESU-8 surrogate halves
 * (`%ED%A0%BD%ED%B8%80`), which is not UTF-8: decoding throws URIError. modesl 1.2.1 decodes unguarded, inside
 * the socket's data handler, so that one header ends the process (modesl issue #59).
 */
export function decodeHeaderValue(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * A header value as a string. JSON events carry strings, except an array for a multi-valued header (FreeSWITCH's
 * `switch_event_add_header` with an index), which is written as the plain format writes it: `ARRAY::a|:b`.
 */
export function headerString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `ARRAY::${value.map(headerString).join('|:')}`;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/** The event of `raw`, or undefined when it has no `Event-Name` (then it is not an event at all). */
export function toEslEvent(raw: RawEventData): EslEvent | undefined {
  const headers: Record<string, string> = {};
  for (const h of raw.headers) {
    // A peer-chosen name must not reach Object.prototype through the `__proto__` setter.
    if (h.name === '__proto__')
      Object.defineProperty(headers, h.name, { value: headerString(h.value), enumerable: true });
    else headers[h.name] = headerString(h.value);
  }
  const name = headers['Event-Name'];
  if (name === undefined || name === '') return undefined;
  const event: EslEvent = { name, headers };
  if (raw.body !== undefined && raw.body !== '') event.body = raw.body;
  return event;
}
