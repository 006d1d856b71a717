import { readFileSync, statSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DataDirLocked } from './errors.ts';
import { writeFileAtomicSync } from './durable.ts';

/**
 * One node per data directory, held by the kernel for exactly as long as the process lives.
 *
 * The lock is a listening socket in Linux's abstract namespace, named after the directory's device and inode:
 * binding it is atomic (a second bind fails with EADDRINUSE, whoever tries first wins), and the kernel frees the
 * name the moment the holding process ends, however it ends (SIGKILL included). So there is no lock file to be
 * read half-written, no stale lock to judge and remove, and no process id that could be reused by another
 * program: the failure modes of a pid file. The name is per network namespace; nodes that share a data
 * directory share a host, and so a namespace.
 *
 * `node.lock` beside it only says who holds the directory, for the refusal message and for operators: it is
 * never trusted for exclusion.
 */
export class DataDirLock {
  private constructor(
    private readonly server: Server,
    private readonly infoPath: string,
  ) {}

  /** Takes the lock of `dir` for this process, or fails with DataDirLocked naming the holder. */
  static async acquire(dir: string, holder: string): Promise<DataDirLock> {
    const st = statSync(dir);
    const name = `\0mware-data-dir:${st.dev}:${st.ino}`;
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path: name, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      const who = readInfo(join(dir, 'node.lock'));
      throw new DataDirLocked(
        `another node${who ? ` (${who.holder}, pid ${who.pid})` : ''} is running on the data directory ${dir}`,
      );
    });
    // The lock never keeps the process alive on its own.
    server.unref();
    const infoPath = join(dir, 'node.lock');
    writeFileAtomicSync(
      infoPath,
      JSON.stringify({ holder, pid: process.pid, since: new Date().toISOString() }),
    );
    return new DataDirLock(server, infoPath);
  }

  /** Gives the directory up: call only once nothing of this node writes to it any more. */
  async release(): Promise<void> {
    if (!this.server.listening) return;
    try {
      unlinkSync(this.infoPath);
    } catch {
      // Already gone: only information.
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readInfo(path: string): { holder: string; pid: number } | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { holder?: unknown; pid?: unknown };
    return typeof v.holder === 'string' && typeof v.pid === 'number'
      ? { holder: v.holder, pid: v.pid }
      : undefined;
  } catch {
    return undefined;
  }
}
