import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Small files that must survive a power cut (the epoch, the lock, the local token): a new name is durable only
 * once its directory entry is, so every create and rename here is followed by an fsync of the directory.
 */

/** fsyncs a directory, making the names created or renamed in it durable. */
export function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `text` to `path` and fsyncs it (its name is durable once the directory is synced). `flag` is `open`'s:
 * `wx` refuses a file already there. A file opened again keeps its old mode: remove one left by a crash first.
 */
export function writeFileSyncedSync(path: string, text: string, mode: number, flag: 'w' | 'wx' = 'w'): void {
  const fd = openSync(path, flag, mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `text` all at once: a reader (or a restart after a crash) sees the old or the new file. */
export function writeFileAtomicSync(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.tmp`;
  writeFileSyncedSync(tmp, text, mode);
  renameSync(tmp, path);
  syncDirSync(dirname(path));
}
