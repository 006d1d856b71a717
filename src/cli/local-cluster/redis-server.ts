import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Child } from './child.ts';
import { LocalClusterFailed, ProgramMissing } from './errors.ts';

/** The local cluster's Redis: a redis-server on a loopback address, without persistence, in a directory of its own. */

const SEARCH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of redis-server, or ProgramMissing saying how to install it. */
export function findRedisServer(search: readonly string[] = SEARCH): string {
  for (const dir of search.filter(Boolean)) {
    const p = join(dir, 'redis-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  throw new ProgramMissing(
    'redis-server is not installed; the local cluster needs it for coordination: apt-get install -y redis-server',
  );
}

/** Starts redis-server and resolves once it accepts connections; rejects (its last lines said) if it exits first. */
export async function startRedisServer(o: {
  bin: string;
  host: string;
  port: number;
  dir: string;
  onLine: (line: string) => void;
  /** The process, as soon as it is started (to stop it even while it is still starting). */
  started: (child: Child) => void;
}): Promise<Child> {
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const child = new Child(
    'redis',
    o.bin,
    [
      ...['--bind', o.host, '--port', String(o.port), '--protected-mode', 'yes'],
      // A demo's coordination: nothing kept after it stops.
      ...['--save', '', '--appendonly', 'no', '--dir', o.dir, '--daemonize', 'no'],
    ],
    {
      onLine: (line) => {
        o.onLine(line);
        if (/Ready to accept connections/.test(line)) ready();
      },
    },
  );
  o.started(child);
  const exited = child.exited.then((e) => {
    throw new LocalClusterFailed(
      `redis-server stopped before accepting connections (${e.signal ?? `code ${e.code ?? '?'}`}); ` +
        `is ${o.host}:${o.port} already in use?`,
    );
  });
  exited.catch(() => undefined); // only its outcome during the start matters here
  await Promise.race([isReady, exited]);
  return child;
}
