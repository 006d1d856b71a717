/**
 * Syslog over a TCP stream (RFC 6587): octet-counting (`LEN SP MSG`, RFC 5425 style) or non-transparent framing
 * (messages ended by LF). The method is decided by each frame's first byte, as rsyslog does: a digit starts an
 * octet count. A frame longer than `maxFrame` or a malformed count makes the stream unusable (the rest cannot be
 * resynchronised), so the caller drops the connection and counts it as garbage.
 */

export type FrameResult = { frames: Buffer[]; error?: string };

const SPACE = 0x20;
const LF = 0x0a;

export class SyslogFramer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrame: number) {}

  /** Adds bytes; returns the complete frames, and `error` once the stream is broken (then stop feeding it). */
  push(chunk: Buffer): FrameResult {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buf.length === 0) return { frames };
      const first = this.buf[0]!;
      if (first >= 0x31 && first <= 0x39) {
        const sp = this.buf.indexOf(SPACE);
        const digits = sp < 0 ? this.buf.length : sp;
        if (digits > String(this.maxFrame).length) return { frames, error: 'octet count too long' };
        if (sp < 0) return { frames };
        const text = this.buf.subarray(0, sp).toString('latin1');
        if (!/^\d+$/.test(text)) return { frames, error: 'malformed octet count' };
        const len = Number(text);
        if (len > this.maxFrame) return { frames, error: `frame of ${len} bytes exceeds ${this.maxFrame}` };
        if (this.buf.length < sp + 1 + len) return { frames };
        frames.push(this.buf.subarray(sp + 1, sp + 1 + len));
        this.buf = this.buf.subarray(sp + 1 + len);
      } else {
        const lf = this.buf.indexOf(LF);
        if (lf < 0) {
          if (this.buf.length > this.maxFrame)
            return { frames, error: `line exceeds ${this.maxFrame} bytes` };
          return { frames };
        }
        const frame = this.buf.subarray(0, lf);
        this.buf = this.buf.subarray(lf + 1);
        // Blank lines between messages (CRLF senders, keep-alives) are not messages.
        if (frame.length > 0 && !(frame.length === 1 && frame[0] === 0x0d)) frames.push(frame);
      }
    }
  }

  /**
   * The peer closed the stream: a last line without its LF is still a message (senders such as `nc` end that
   * way); a frame whose octet count promised more than came is garbage (`error`), not silently dropped.
   */
  end(): FrameResult {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    if (rest.length === 0) return { frames: [] };
    const first = rest[0]!;
    if (first >= 0x31 && first <= 0x39)
      return { frames: [], error: `truncated frame (${rest.length} bytes at close)` };
    const line = rest[rest.length - 1] === 0x0d ? rest.subarray(0, -1) : rest;
    return { frames: line.length > 0 ? [line] : [] };
  }
}
