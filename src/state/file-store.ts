import { mkdirSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, rename, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirSync } from './durable.ts';
import { StaleEpoch, StateStoreError } from './errors.ts';
import type { StateStore, StoredState } from './store.ts';

/**
 * The embedded state store: an append-only journal of JSON lines with group commit, compacted into a snapshot.
 * Writes that arrive together share one write and one fdatasync, so many concurrent savers cost one disk flush.
 *
 * What it promises:
 * - a save resolves only once its line is on disk, and only then is the value what `load` returns: a write that
 *   fails leaves the last durable value in place, never the one the writer was told failed (nor does a later
 *   compaction persist it). A `load` of a key with a write on its way waits for that write to settle;
 * - a write that fails part-way is cut off the journal before anything else is appended, so no later line merges
 *   with its torn half; if even that cut fails, the store refuses every later write rather than corrupt the
 *   journal;
 * - values are copied at save (kept as their JSON text), so a caller changing an object later changes nothing;
 * - fencing: one store belongs to one node, whose epochs only grow, so any write (save or delete) below the
 *   highest epoch the store has seen comes from a deposed writer and is refused — a delete leaves no gap through
 *   which a stale writer could recreate its key;
 * - a torn last line (power cut mid-write) is dropped on open; any other unreadable line stops the open, since
 *   silently skipping it would lose acknowledged state.
 */

export interface FileStoreOptions {
  dir: string;
  /** fdatasync each batch (default true). Without it a write survives a process crash, not a power cut. */
  fsync?: boolean;
  /** Compact the journal into the snapshot past this many bytes. */
  compactBytes?: number;
  /** Appends text to the journal (tests make it fail part-way, as a full disk does). */
  append?: (journal: FileHandle, text: string) => Promise<void>;
}

interface Line {
  k: string;
  e: number;
  v?: unknown;
  d?: 1;
}

interface Entry {
  epoch: number;
  /** The value's JSON text. */
  json: string;
}

interface Snapshot {
  v: 2;
  highest: number;
  entries: Record<string, { epoch: number; value: unknown }>;
}

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.log';

export class FileStateStore implements StateStore {
  private readonly entries = new Map<string, Entry>();
  /** Key → journal line of the batch not yet written (only a key's last write in a batch matters). */
  private batch = new Map<string, { line: string; apply: () => void }>();
  private waiters: { resolve(): void; reject(e: unknown): void }[] = [];
  /** The batch being written now, if any. */
  private inflight: Promise<void> | undefined;
  private inflightKeys: ReadonlySet<string> = new Set();
  private closed = false;
  /** Set when the journal could not be repaired after a failed write: nothing more is written. */
  private broken: StateStoreError | undefined;
  private journalBytes: number;
  private highest: number;

  private constructor(
    private readonly dir: string,
    private journal: FileHandle,
    private readonly fsync: boolean,
    private readonly compactBytes: number,
    private readonly append: (journal: FileHandle, text: string) => Promise<void>,
    journalBytes: number,
    highest: number,
  ) {
    this.journalBytes = journalBytes;
    this.highest = highest;
  }

  static async open(opts: FileStoreOptions): Promise<FileStateStore> {
    const dir = opts.dir;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new StateStoreError(`cannot create the state directory ${dir}: ${errCode(err)}`, { cause: err });
    }
    const entries = new Map<string, Entry>();
    let highest = readSnapshot(join(dir, SNAPSHOT), await readSnapshotText(join(dir, SNAPSHOT)), entries);
    const journalPath = join(dir, JOURNAL);
    const replayed = await replay(journalPath, entries);
    highest = Math.max(highest, replayed.highest);
    let handle: FileHandle;
    try {
      handle = await open(journalPath, 'a');
      // Prove the directory takes writes now, not at the first acknowledged change; and make the journal's name
      // durable, or a power cut could take a new journal (and the changes acknowledged in it) away.
      await handle.datasync();
      syncDirSync(dir);
    } catch (err) {
      throw new StateStoreError(`the state directory ${dir} is not writable: ${errCode(err)}`, {
        cause: err,
      });
    }
    const store = new FileStateStore(
      dir,
      handle,
      opts.fsync ?? true,
      opts.compactBytes ?? 8 * 1024 * 1024,
      // appendFile writes until every byte is down or an error says why: a bare write may stop short silently.
      opts.append ?? ((fh, text) => fh.appendFile(text)),
      replayed.bytes,
      highest,
    );
    for (const [k, v] of entries) store.entries.set(k, v);
    return store;
  }

  async load(key: string): Promise<StoredState | undefined> {
    // Read what is durable: a write of this key on its way settles first (succeeding or not).
    while (this.batch.has(key) || (this.inflight && this.inflightKeys.has(key)))
      await this.flush().catch(() => undefined);
    const e = this.entries.get(key);
    return e && { epoch: e.epoch, value: JSON.parse(e.json) as unknown };
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix));
  }

  /** The highest epoch any write to this store carried (0 for a new store). */
  highestEpoch(): number {
    return this.highest;
  }

  save(key: string, value: unknown, epoch: number): Promise<void> {
    const refused = this.refuse(key, epoch);
    if (refused) return Promise.reject(refused);
    const json = JSON.stringify(value ?? null);
    return this.enqueue(
      key,
      epoch,
      JSON.stringify({ k: key, e: epoch, v: JSON.parse(json) as unknown }),
      () => this.entries.set(key, { epoch, json }),
    );
  }

  delete(key: string, epoch: number): Promise<void> {
    const refused = this.refuse(key, epoch);
    if (refused) return Promise.reject(refused);
    return this.enqueue(key, epoch, JSON.stringify({ k: key, e: epoch, d: 1 }), () =>
      this.entries.delete(key),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.inflight || this.batch.size > 0) await this.flush().catch(() => undefined);
    this.closed = true;
    await this.journal.close();
  }

  private refuse(key: string, epoch: number): Error | undefined {
    if (this.closed) return new StateStoreError('the state store is closed');
    if (this.broken) return this.broken;
    if (epoch < this.highest)
      return new StaleEpoch(
        `state "${key}": this store has taken writes at epoch ${this.highest}; a write at epoch ${epoch} is refused`,
      );
    return undefined;
  }

  private enqueue(key: string, epoch: number, line: string, apply: () => void): Promise<void> {
    this.highest = Math.max(this.highest, epoch);
    // Within one batch only the last write of a key matters; earlier ones are never read back.
    this.batch.delete(key);
    this.batch.set(key, { line, apply });
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.inflight) setImmediate(() => void this.flush().catch(() => undefined));
    });
  }

  /** Writes the waiting batch; while one is being written, answers that one's completion instead. */
  private flush(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.batch.size === 0) return Promise.resolve();
    this.inflight = this.write().finally(() => {
      this.inflight = undefined;
      this.inflightKeys = new Set();
      if (this.batch.size > 0) setImmediate(() => void this.flush().catch(() => undefined));
    });
    return this.inflight;
  }

  private async write(): Promise<void> {
    const batch = this.batch;
    const waiters = this.waiters;
    this.batch = new Map();
    this.waiters = [];
    this.inflightKeys = new Set(batch.keys());
    const text = [...batch.values()].map((b) => b.line).join('\n') + '\n';
    try {
      if (this.broken) throw this.broken;
      await this.append(this.journal, text);
      if (this.fsync) await this.journal.datasync();
    } catch (err) {
      await this.cutTornWrite();
      const e =
        err instanceof StateStoreError
          ? err
          : new StateStoreError(`cannot write the state journal in ${this.dir}: ${errCode(err)}`, {
              cause: err,
            });
      for (const w of waiters) w.reject(e);
      return;
    }
    this.journalBytes += Buffer.byteLength(text);
    for (const b of batch.values()) b.apply();
    for (const w of waiters) w.resolve();
    if (this.journalBytes > this.compactBytes) await this.compact().catch(() => undefined);
  }

  /** After a failed append: the journal back to its last good length, or the store refuses every later write. */
  private async cutTornWrite(): Promise<void> {
    if (this.broken) return;
    try {
      await this.journal.truncate(this.journalBytes);
      if (this.fsync) await this.journal.datasync();
    } catch (err) {
      this.broken = new StateStoreError(
        `the state journal in ${this.dir} could not be repaired after a failed write (${errCode(err)}); restart the node`,
        { cause: err },
      );
    }
  }

  /** Writes every entry to a new snapshot (atomically, by rename), then empties the journal. */
  private async compact(): Promise<void> {
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      const entries: string[] = [];
      for (const [k, e] of this.entries)
        entries.push(`${JSON.stringify(k)}:{"epoch":${e.epoch},"value":${e.json}}`);
      await fh.write(`{"v":2,"highest":${this.highest},"entries":{${entries.join(',')}}}`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, SNAPSHOT));
    syncDirSync(this.dir);
    await this.journal.truncate(0);
    await this.journal.datasync();
    this.journalBytes = 0;
  }
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

async function readSnapshotText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new StateStoreError(`cannot read ${path}: ${errCode(err)}`, { cause: err });
  });
}

/** Loads a snapshot into `entries`; returns the highest epoch it records. */
function readSnapshot(path: string, text: string | undefined, entries: Map<string, Entry>): number {
  if (text === undefined) return 0;
  let snap: Partial<Snapshot>;
  try {
    snap = JSON.parse(text) as Partial<Snapshot>;
  } catch (err) {
    throw new StateStoreError(`${path} is corrupt: ${(err as Error).message}`, { cause: err });
  }
  let highest = snap.highest ?? 0;
  for (const [k, v] of Object.entries(snap.entries ?? {})) {
    entries.set(k, { epoch: v.epoch, json: JSON.stringify(v.value) });
    highest = Math.max(highest, v.epoch);
  }
  return highest;
}

/** Applies the journal to `entries`; returns its good length and highest epoch. Drops (and cuts off) a torn last line. */
async function replay(
  path: string,
  entries: Map<string, Entry>,
): Promise<{ bytes: number; highest: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { bytes: 0, highest: 0 };
    throw new StateStoreError(`cannot read ${path}: ${errCode(err)}`, { cause: err });
  }
  // Every acknowledged line ends with a newline; whatever follows the last newline is a torn, unacknowledged write.
  const lines = text.split('\n');
  lines.pop();
  let good = 0;
  let highest = 0;
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
      else entries.set(line.k, { epoch: line.e, json: JSON.stringify(line.v ?? null) });
      highest = Math.max(highest, line.e);
    }
    good += Buffer.byteLength(raw) + 1;
  });
  const size = (await stat(path)).size;
  if (good < size) await truncate(path, good);
  return { bytes: good, highest };
}
