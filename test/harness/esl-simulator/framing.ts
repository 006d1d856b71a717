/**
 * ESL wire framing as mod_event_socket writes it (FreeSWITCH v1.10.12,
 * src/mod/event_handlers/mod_event_socket/mod_event_socket.c): header lines `Name: value`, a blank line, then
 * `Content-Length` bytes of body. Every builder here returns the exact bytes the real server sends.
 */

/** `Content-Type: auth/request` with no Content-Length (mod_event_socket.c:2720). */
export const AUTH_REQUEST = 'Content-Type: auth/request\n\n';

/** The goodbye text sent when a listener ends normally (mod_event_socket.c:2816). */
export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

/** `Content-Type: command/reply` + `Reply-Text` (mod_event_socket.c:2742). */
export function commandReply(text: string, extraHeaders: readonly [string, string][] = []): string {
  const extra = extraHeaders.map(([k, v]) => `${k}: ${v}\n`).join('');
  return `Content-Type: command/reply\nReply-Text: ${text}\n${extra}\n`;
}

/** `api/response` with the body's byte length (mod_event_socket.c:1591). An empty body becomes `-ERR no reply`. */
export function apiResponse(body: string): string {
  const text = body === '' ? '-ERR no reply\n' : body;
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(text)}\n\n${text}`;
}

/** `text/disconnect-notice` with its body (mod_event_socket.c:648). */
export function disconnectNotice(message: string): string {
  return `Content-Type: text/disconnect-notice\nContent-Length: ${Buffer.byteLength(message)}\n\n${message}`;
}

/** `text/rude-rejection` (ACL block, mod_event_socket.c:2677). */
export function rudeRejection(message: string): string {
  return `Content-Type: text/rude-rejection\nContent-Length: ${Buffer.byteLength(message)}\n\n${message}`;
}

/** Content-Length first, then the type (mod_event_socket.c:1441). */
export function eventFrame(format: 'plain' | 'json', serialized: string): string {
  return `Content-Length: ${Buffer.byteLength(serialized)}\nContent-Type: text/event-${format}\n\n${serialized}`;
}

/** Characters switch_url_encode escapes besides controls and non-ASCII (SWITCH_URL_UNSAFE, switch_utils.h:47). */
const URL_UNSAFE = new Set('\r\n #%&+:;<=>?@[\\]^`{|}"');
const HEX = '0123456789ABCDEF';

/**
 * switch_url_encode (switch_utils.c:3476): every byte below space, above `~` or in SWITCH_URL_UNSAFE becomes
 * `%XX` (upper case), except a `%` already followed by two hex digits, which is kept (no double encoding).
 * Works on UTF-8 bytes, as the C code does.
 */
export function fsUrlEncode(value: string, surrogates = false): string {
  const bytes = surrogates ? cesu8(value) : Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out += '%';
      continue;
    }
    const ch = String.fromCharCode(b);
    if (b < 0x20 || b > 0x7e || URL_UNSAFE.has(ch)) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
    else out += ch;
  }
  return out;
}

/**
 * CESU-8: each UTF-16 code unit encoded on its own, so an emoji becomes two 3-byte surrogate halves
 * (`%ED%A0%BD%ED%B8%80` for U+1F600). FreeSWITCH carries such bytes when a name reached it as JSON `\uD83D\uDE00`
 * escapes (cJSON decodes each escape separately); modesl's unguarded decodeURIComponent throws on them.
 */
function cesu8(value: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < value.length; i++) {
    const u = value.charCodeAt(i);
    if (u < 0x80) parts.push(Buffer.from([u]));
    else if (u < 0x800) parts.push(Buffer.from([0xc0 | (u >> 6), 0x80 | (u & 63)]));
    else parts.push(Buffer.from([0xe0 | (u >> 12), 0x80 | ((u >> 6) & 63), 0x80 | (u & 63)]));
  }
  return Buffer.concat(parts);
}

function isHex(b: number | undefined): boolean {
  return (
    b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66))
  );
}

/** switch_url_decode: `%XX` → byte (invalid sequences kept), `+` is NOT a space there. Result read as latin1 bytes → UTF-8. */
export function fsUrlDecode(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length) {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    for (const b of Buffer.from(value[i] as string, 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** One request from a client: the command line and any extra header lines (e.g. `Job-UUID` on bgapi). */
export interface EslRequest {
  command: string;
  headers: Record<string, string>;
}

/**
 * Splits the byte stream a client sends into requests. mod_event_socket's read_packet ends a request at an
 * empty line; the first line is the command, the following `Name: value` lines become headers.
 */
export class RequestParser {
  private buf = '';

  push(chunk: Buffer): EslRequest[] {
    this.buf += chunk.toString('utf8');
    const out: EslRequest[] = [];
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buf);
      if (!m) break;
      const block = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const lines = block.split(/\r?\n/).filter((l) => l !== '');
      const [command, ...rest] = lines;
      if (command === undefined) continue;
      const headers: Record<string, string> = {};
      for (const l of rest) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      out.push({ command, headers });
    }
    return out;
  }
}
