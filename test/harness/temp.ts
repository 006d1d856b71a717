import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory (optionally owned by another user), removed by `cleanup`. */
export function tempDir(
  prefix: string,
  owner?: { uid: number; gid: number },
): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `mware-${prefix}-`));
  if (owner) chownSync(path, owner.uid, owner.gid);
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
