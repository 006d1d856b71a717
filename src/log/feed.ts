/**
 * The node's recent log lines (already scrubbed of secrets) and a way to follow new ones, for the shell's `logs`
 * command and the API. Bounded: the oldest lines are dropped.
 */
export class LogFeed {
  private readonly lines: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();

  constructor(private readonly max = 1000) {}

  /** pino writes whole lines here (it is used as a destination stream). */
  write(chunk: string): boolean {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      for (const l of this.listeners) {
        // A follower's failure must not reach whoever is logging.
        try {
          l(line);
        } catch {
          this.listeners.delete(l);
        }
      }
    }
    return true;
  }

  recent(n = 100): string[] {
    return n <= 0 ? [] : this.lines.slice(-n);
  }

  follow(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
