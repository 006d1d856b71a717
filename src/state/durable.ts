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

/** Replaces `path` with `text` all at once: a reader (or a restart after a crash) sees the old or the new file. */
export function writeFileAtomicSync(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirSync(dirname(path));
}
