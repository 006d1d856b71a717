import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../state/durable.ts';
import type { Clock } from '../supervision/clock.ts';
import type { CoordinationBackend, CoordinationEvent, CoordinationStatus, Leadership } from './backend.ts';
import { EpochUnreadable } from './errors.ts';
import { CoordinationEvents } from './events.ts';

/**
 * Embedded coordination, the single-node default: the node is its group's only member, so it leads as soon as it
 * holds its data directory (the node takes that lock before anything else). The fencing epoch is a counter in
 * the directory, incremented durably at every acquisition, so whatever an earlier run wrote or handed out (state
 * entries, mutex tokens) carries a lower epoch than this run's.
 *
 * The epoch must never go back: a reset would hand out tokens below earlier ones. So an epoch file that exists
 * but cannot be read stops the start with an error instead of counting from zero, and a missing file (a new
 * directory, or one whose file was deleted) counts from the highest epoch found in the saved state.
 */
export class EmbeddedCoordination implements CoordinationBackend {
  readonly kind = 'embedded' as const;
  private leadership: Leadership | undefined;
  private readonly epochPath: string;
  private readonly events = new CoordinationEvents();

  constructor(
    dataDir: string,
    private readonly holder: string,
    private readonly clock: Clock,
    /** The highest epoch the node's saved state carries (a floor when the epoch file is missing). */
    private readonly savedEpoch: () => number = () => 0,
  ) {
    this.epochPath = join(dataDir, 'epoch');
    // Nobody leads before this node: its acquisition is the group's first leadership of this run.
    this.events.health(true, undefined);
    this.events.leadership(null, null);
  }

  async acquire(): Promise<Leadership> {
    const epoch = Math.max(this.readEpoch(), this.savedEpoch()) + 1;
    writeFileAtomicSync(this.epochPath, `${epoch}\n`);
    this.leadership = { epoch, holder: this.holder, since: this.clock.wallNow() };
    this.events.leadership(this.holder, epoch);
    return this.leadership;
  }

  async release(): Promise<void> {
    this.leadership = undefined;
    this.events.leadership(null, null);
  }

  leading(): boolean {
    return this.leadership !== undefined;
  }

  onLost(): void {
    // The only member of its group, holding its data directory: it cannot lose leadership while it lives.
  }

  status(): CoordinationStatus {
    return { kind: 'embedded', healthy: true, leadership: this.leadership };
  }

  onEvent(listener: (e: CoordinationEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.release();
  }

  /** The last epoch written, 0 when there is none yet; throws when the file exists but is not an epoch. */
  private readEpoch(): number {
    let text: string;
    try {
      text = readFileSync(this.epochPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw new EpochUnreadable(
        `cannot read the epoch file ${this.epochPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const n = /^\d+\n?$/.test(text) ? Number(text.trim()) : NaN;
    if (!Number.isSafeInteger(n)) {
      throw new EpochUnreadable(
        `the epoch file ${this.epochPath} does not hold an epoch (${JSON.stringify(text.slice(0, 40))}); ` +
          'counting from zero would fence new state and tokens below older ones. Write the highest epoch this ' +
          'directory has used into it, or remove the file to count on from the saved state',
      );
    }
    return n;
  }
}
