/**
 * RTP ports for the legs a migration recovers onto one host. FreeSWITCH binds a recovered leg's RTP on the
 * `local_media_port` of its metadata — the source's port, not one from the target's range — and sets SO_REUSEADDR,
 * so a port another call of the target holds is bound a second time without an error: the newer socket gets the
 * port's packets and the two calls' audio crosses (FINDINGS.md g, observed on 1.10.12). The migration therefore
 * gives each leg a port no leg of the target holds (as far as the recovery table tells) and no other leg handed to
 * it got, inside the target's RTP range.
 */

export interface PortRange {
  start: number;
  end: number;
}

export class MediaPortPicker {
  /** Even ports whose pair (RTP, RTCP = RTP + 1) is taken. */
  private readonly taken = new Set<number>();
  private cursor: number;

  constructor(
    private readonly range: PortRange,
    inUse: Iterable<number>,
  ) {
    for (const p of inUse) this.take(p);
    this.cursor = this.firstEven();
  }

  /**
   * The leg's own port when it is even, inside the range and free here (the fewest changes), else the lowest free
   * even port of the range; null when the range has none left. The port returned is taken.
   */
  pick(current: number | null): number | null {
    if (current !== null && this.fits(current) && !this.taken.has(current)) {
      this.take(current);
      return current;
    }
    for (; this.cursor + 1 <= this.range.end; this.cursor += 2)
      if (!this.taken.has(this.cursor)) {
        const p = this.cursor;
        this.take(p);
        return p;
      }
    return null;
  }

  private fits(p: number): boolean {
    return Number.isInteger(p) && p % 2 === 0 && p >= this.range.start && p + 1 <= this.range.end;
  }

  private take(p: number): void {
    // An odd port in use (an RTCP port, or a host with odd RTP ports) blocks the even pair it belongs to.
    this.taken.add(p - (p % 2));
  }

  private firstEven(): number {
    return this.range.start + (this.range.start % 2);
  }
}
