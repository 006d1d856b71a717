import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scrubber } from '../../src/redaction.ts';

/**
 * `pgctrl_<key>.log` in the node's data directory (04-postgres.md): one line per decision of a cluster's controller —
 * time, fencing epoch, what and why — kept apart from the node's log so the history of a cluster reads in one place.
 * Lines are written in order; a failed write is reported once and never stops the controller.
 */
export class DecisionLog {
  readonly file: string;
  private tail: Promise<void> = Promise.resolve();
  private readonly scrub: (s: string) => string;

  constructor(
    dataDir: string,
    key: string,
    secrets: readonly string[],
    private readonly onError: (err: unknown) => void,
  ) {
    this.file = join(dataDir, `pgctrl_${key}.log`);
    this.scrub = scrubber([...secrets]);
  }

  write(
    at: number,
    epoch: number,
    event: string,
    message: string,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    const facts = Object.entries(data)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const line = this.scrub(
      `${new Date(at).toISOString()} epoch=${epoch} ${event}: ${message}${facts ? ` (${facts})` : ''}\n`,
    );
    this.tail = this.tail
      .then(() => appendFile(this.file, line, { mode: 0o600 }))
      .catch((err: unknown) => this.onError(err));
    return this.tail;
  }
}
