import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
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
    writeAtomically(this.epochPath, `${epoch}\n`);
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
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(
          fd,
          JSON.stringify({
            pid: process.pid,
            nonce: PROCESS_NONCE,
            holder: this.holder,
            since: this.clock.wallNow(),
          }),
        );
        fsyncSync(fd);
        closeSync(fd);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = this.readLock();
        // Our own pid with another nonce is an earlier process that had the same pid (a restarted container).
        const live =
          owner !== undefined &&
          (owner.pid === process.pid ? owner.nonce === PROCESS_NONCE : this.isAlive(owner.pid));
        if (owner && live) {
          throw new DataDirLocked(
            `another node (${owner.holder}, pid ${owner.pid}) is running on the data directory ${this.dataDir}`,
          );
        }
        // A lock left by a node that died: it held nothing any more.
        unlinkSync(this.lockPath);
      }
    }
    throw new DataDirLocked(`could not take the lock ${this.lockPath}`);
  }

  private readLock(): { pid: number; nonce?: string; holder: string } | undefined {
    try {
      return JSON.parse(readFileSync(this.lockPath, 'utf8')) as {
        pid: number;
        nonce?: string;
        holder: string;
      };
    } catch {
      return undefined;
    }
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

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  writeSync(fd, text);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}
