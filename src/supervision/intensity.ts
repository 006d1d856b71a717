/**
 * Restart intensity: at most `intensity` restarts within `periodMs` (OTP semantics). The restart that would make
 * it `intensity + 1` is refused, and the supervisor escalates instead of restarting.
 */
export class RestartWindow {
  private times: number[] = [];

  constructor(
    private readonly intensity: number,
    private readonly periodMs: number,
  ) {}

  /** Records a restart at `now`; false when it exceeds the intensity. */
  admit(now: number): boolean {
    this.times = this.times.filter((t) => now - t < this.periodMs);
    this.times.push(now);
    return this.times.length <= this.intensity;
  }

  get recent(): number {
    return this.times.length;
  }
}
