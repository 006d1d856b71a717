import { statSync } from 'node:fs';
import { posix } from 'node:path';
import type { SshPool, SshTarget } from '../../src/ssh/index.ts';
import { endpoint } from '../../src/ssh/index.ts';
import { shellWord } from './targets.ts';

/**
 * Sends a local archive by SFTP to `<dir>/<name>` on the storage, replacing the previous copy atomically: it is
 * sent under `<name>.part` and renamed, so a broken transfer never replaces the previous good copy. `dir` is
 * created first (`mkdir -p`; a relative path is in the storage user's home). The pg archives and the zip of the
 * sync folder both go this way.
 */
export async function uploadArchive(
  ssh: SshPool,
  storage: SshTarget,
  o: { localArchive: string; dir: string; name: string; probeMs: number; transferMs: number },
): Promise<{ bytes: number; detail: string }> {
  const dest = posix.join(o.dir, o.name);
  await ssh.execOk(storage, `mkdir -p -- ${shellWord(o.dir)}`, { timeoutMs: o.probeMs * 5 });
  await ssh.put(storage, o.localArchive, `${dest}.part`, o.transferMs);
  await ssh.execOk(storage, `mv -f -- ${shellWord(`${dest}.part`)} ${shellWord(dest)}`, {
    timeoutMs: o.probeMs * 5,
  });
  return { bytes: statSync(o.localArchive).size, detail: `${endpoint(storage)}:${dest}` };
}
