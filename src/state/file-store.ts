import { mkdirSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, rename, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirSync } from './durable.ts';
import { StaleEpoch, StateStoreError } from './errors.ts';
import type { StateStore, StoredState } from './store.ts';

/**
 * The embedded state store: an append-only journal of JSON lines with group commit, compacted into a snapshot.
 * Writes that arrive together share one write and one fdatasync, so many concurrent savers cost one disk flush;
 * a save resolves only after its line is on disk. A torn last line (power cut mid-write) is dropped on open;
 * any other unreadable line stops the open, since silently skipping it would lose acknowledged state.
 */

export interface FileStoreOptions {
  dir: string;
  /** fdatasync each batch (default true). Without it a write survives a process crash, not a power cut. */
  fsync?: boolean;
  /** Compact the journal into the snapshot past this many bytes. */
  compactBytes?: number;
}

interface Line {
  k: string;
  e: number;
  v?: unknown;
  d?: 1;
}

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.log';

export class FileStateStore implements StateStore {
  private readonly entries = new Map<string, StoredState>();
  private batch = new Map<string, string>();
  private waiters: { resolve(): void; reject(e: unknown): void }[] = [];
  /** The batch being written now, if any. */
  private inflight: Promise<void> | undefined;
  private closed = false;
  private journalBytes: number;

  private constructor(
    private readonly dir: string,
    private journal: FileHandle,
    private readonly fsync: boolean,
    private readonly compactBytes: number,
    journalBytes: number,
  ) {
    this.journalBytes = journalBytes;
  }

  static async open(opts: FileStoreOptions): Promise<FileStateStore> {
    const dir = opts.dir;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new StateStoreError(
        `cannot create the state directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const entries = new Map<string, StoredState>();
    const snapshotText = await readFile(join(dir, SNAPSHOT), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new StateStoreError(`cannot read ${join(dir, SNAPSHOT)}: ${err.code ?? err.message}`, {
        cause: err,
      });
    });
    if (snapshotText !== undefined) {
      try {
        const snap = JSON.parse(snapshotText) as { entries: Record<string, StoredState> };
        for (const [k, v] of Object.entries(snap.entries)) entries.set(k, v);
      } catch (err) {
        throw new StateStoreError(`${join(dir, SNAPSHOT)} is corrupt: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    const journalPath = join(dir, JOURNAL);
    const journalBytes = await replay(journalPath, entries);
    let handle: FileHandle;
    try {
      handle = await open(journalPath, 'a');
      // Prove the directory takes writes now, not at the first acknowledged change; and make the journal's name
      // durable, or a power cut could take a new journal (and the changes acknowledged in it) away.
      await handle.datasync();
      syncDirSync(dir);
    } catch (err) {
      throw new StateStoreError(
        `the state directory ${dir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const store = new FileStateStore(
      dir,
      handle,
      opts.fsync ?? true,
      opts.compactBytes ?? 8 * 1024 * 1024,
      journalBytes,
    );
    for (const [k, v] of entries) store.entries.set(k, v);
    return store;
  }

  async load(key: string): Promise<StoredState | undefined> {
    return this.entries.get(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix));
  }

  save(key: string, value: unknown, epoch: number): Promise<void> {
    const fenced = this.fence(key, epoch);
    if (fenced) return Promise.reject(fenced);
    this.entries.set(key, { epoch, value });
    return this.enqueue(key, { k: key, e: epoch, v: value });
  }

  delete(key: string, epoch: number): Promise<void> {
    const fenced = this.fence(key, epoch);
    if (fenced) return Promise.reject(fenced);
    this.entries.delete(key);
    return this.enqueue(key, { k: key, e: epoch, d: 1 });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.inflight || this.batch.size > 0) await this.flush();
    this.closed = true;
    await this.journal.close();
  }

  private fence(key: string, epoch: number): Error | undefined {
    if (this.closed) return new StateStoreError('the state store is closed');
    const cur = this.entries.get(key);
    if (cur && cur.epoch > epoch)
      return new StaleEpoch(
        `state "${key}" was written at epoch ${cur.epoch}; a write at epoch ${epoch} is refused`,
      );
    return undefined;
  }

  private enqueue(key: string, line: Line): Promise<void> {
    // Within one batch only the last write of a key matters; earlier ones are never read back.
    this.batch.delete(key);
    this.batch.set(key, JSON.stringify(line));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.inflight) setImmediate(() => void this.flush());
    });
  }

  /** Writes the waiting batch; while one is being written, answers that one's completion instead. */
  private flush(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.batch.size === 0) return Promise.resolve();
    this.inflight = this.write().finally(() => {
      this.inflight = undefined;
      if (this.batch.size > 0) setImmediate(() => void this.flush());
    });
    return this.inflight;
  }

  private async write(): Promise<void> {
    const lines = [...this.batch.values()];
    const waiters = this.waiters;
    this.batch = new Map();
    this.waiters = [];
    try {
      const text = lines.join('\n') + '\n';
      await this.journal.write(text);
      if (this.fsync) await this.journal.datasync();
      this.journalBytes += Buffer.byteLength(text);
      for (const w of waiters) w.resolve();
      if (this.journalBytes > this.compactBytes) await this.compact();
    } catch (err) {
      const e = new StateStoreError(
        `cannot write the state journal in ${this.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
      for (const w of waiters) w.reject(e);
    }
  }

  /** Writes every entry to a new snapshot (atomically, by rename), then empties the journal. */
  private async compact(): Promise<void> {
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.write(JSON.stringify({ v: 1, entries: Object.fromEntries(this.entries) }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, SNAPSHOT));
    syncDirSync(this.dir);
    await this.journal.close();
    await truncate(join(this.dir, JOURNAL), 0);
    this.journal = await open(join(this.dir, JOURNAL), 'a');
    this.journalBytes = 0;
  }
}

/** Applies the journal to `entries`; returns its size. Drops (and cuts off) a torn last line. */
async function replay(path: string, entries: Map<string, StoredState>): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new StateStoreError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  // Every acknowledged line ends with a newline; whatever follows the last newline is a torn, unacknowledged write.
  const lines = text.split('\n');
  lines.pop();
  let good = 0;
  lines.forEach((raw, i) => {
    if (raw !== '') {
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch (err) {
        throw new StateStoreError(`${path} line ${i + 1} is corrupt: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (line.d) entries.delete(line.k);
      else entries.set(line.k, { epoch: line.e, value: line.v });
    }
    good += Buffer.byteLength(raw) + 1;
  });
  const size = (await stat(path)).size;
  if (good < size) await truncate(path, good);
  return good;
}
