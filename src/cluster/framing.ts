/**
 * Length-prefixed frames on a byte stream: a 4-byte big-endian length, then that many bytes. The reader takes
 * chunks as they arrive (a frame split over several, several frames in one) and refuses a length beyond its limit
 * before buffering it, so a hostile peer cannot make a node allocate what it announces.
 */

export const MAX_FRAME = 4 * 1024 * 1024;

export function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly max = MAX_FRAME) {}

  /** The complete frames in what has arrived so far; throws on a frame longer than the limit. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (this.buf.length < 4) break;
      const len = this.buf.readUInt32BE(0);
      if (len > this.max) throw new RangeError(`a frame of ${len} bytes is beyond the limit of ${this.max}`);
      if (this.buf.length < 4 + len) break;
      out.push(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}
