import { linkSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { syncDirSync, writeFileAtomicSync } from '../state/durable.ts';
import type { Clock } from '../../supervisors/clock.ts';
import type { CoordinationBackend, CoordinationStatus, Leadership } from './backend.ts';
import { DataDirLocked } from './errors.ts';

/** Tells this process apart from an earlier one that had the same pid. */
const PROCESS_NONCE = randomUUID();

/**
 * Embedded coordination: the single-node default. Leadership is an exclusive lock file in the data directory
 * (so two nodes started on one directory cannot both be active) and the epoch is a counter kept beside it,
 * incremented at every start, so state written by an earlier run is always older than this run's.
 */
export class EmbeddedCoordination implements CoordinationBackend {
  readonly kind = 'embedded' as const;
  private leadership: Leadership | undefined;
  private readonly lockPath: string;
  private readonly epochPath: string;

  constructor(
    private readonly dataDir: string,
    private readonly holder: string,
    private readonly clock: Clock,
    private readonly isAlive: (pid: number) => boolean = processAlive,
  ) {
    this.lockPath = join(dataDir, 'node.lock');
    this.epochPath = join(dataDir, 'epoch');
  }

  async acquire(): Promise<Leadership> {
    this.takeLock();
    const epoch = this.readEpoch() + 1;
    writeFileAtomicSync(this.epochPath, `${epoch}\n`);
    this.leadership = { epoch, holder: this.holder, since: this.clock.wallNow() };
    return this.leadership;
  }

  async release(): Promise<void> {
    if (!this.leadership) return;
    this.leadership = undefined;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  }

  onLost(): void {
    // A lock file held by this live process cannot be lost.
  }

  status(): CoordinationStatus {
    return { kind: 'embedded', healthy: true, leadership: this.leadership, detail: `lock ${this.lockPath}` };
  }

  async close(): Promise<void> {
    await this.release();
  }

  private takeLock(): void {
    // The lock appears with its content in one step (written aside, then hard-linked into place, which fails if
    // it exists), so another node never reads an empty lock and takes it for a dead one.
    const draft = `${this.lockPath}.${randomUUID()}.new`;
    writeFileAtomicSync(
      draft,
      JSON.stringify({
        pid: process.pid,
        nonce: PROCESS_NONCE,
        holder: this.holder,
        since: this.clock.wallNow(),
      }),
    );
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(draft, this.lockPath);
          syncDirSync(this.dataDir);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          const owner = readLock(this.lockPath);
          if (owner && this.alive(owner)) {
            throw new DataDirLocked(
              `another node (${owner.holder}, pid ${owner.pid}) is running on the data directory ${this.dataDir}`,
            );
          }
          this.removeStaleLock(owner);
        }
      }
      throw new DataDirLocked(`could not take the lock ${this.lockPath}`);
    } finally {
      unlinkSync(draft);
    }
  }

  /** Our own pid with another nonce is an earlier process that had the same pid (a restarted container). */
  private alive(owner: LockOwner): boolean {
    return owner.pid === process.pid ? owner.nonce === PROCESS_NONCE : this.isAlive(owner.pid);
  }

  /**
   * Removes a lock left by a node that died, and only that one: two nodes starting together may both find it
   * stale, and the slower must not delete the lock the faster has just taken. So the lock is first renamed to a
   * name of our own (atomic: one of them gets it), then checked to be the stale one; a live lock is put back.
   */
  private removeStaleLock(judged: LockOwner | undefined): void {
    const mine = `${this.lockPath}.${randomUUID()}.stale`;
    try {
      renameSync(this.lockPath, mine);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it: try again
      throw err;
    }
    const taken = readLock(mine);
    const same =
      taken?.pid === judged?.pid && taken?.nonce === judged?.nonce && taken?.holder === judged?.holder;
    if (!same && taken && this.alive(taken)) {
      try {
        linkSync(mine, this.lockPath); // never replaces a lock taken meanwhile
      } catch {
        // a third node took the lock meanwhile: it holds the directory now
      }
    }
    unlinkSync(mine);
  }

  private readEpoch(): number {
    try {
      const n = Number.parseInt(readFileSync(this.epochPath, 'utf8'), 10);
      return Number.isSafeInteger(n) && n >= 0 ? n : 0;
    } catch {
      return 0;
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockOwner {
  pid: number;
  nonce?: string;
  holder: string;
}

function readLock(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}
