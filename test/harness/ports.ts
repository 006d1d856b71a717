import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports for servers the tests start, handed out before the server binds them (a node process, Redis, pebble …).
 *
 * A port the kernel picked for a probe socket (`listen(0)`) comes from the ephemeral range, and the kernel may
 * hand that same port to any outgoing connection on the machine before our server binds it: CI saw a node fail
 * with EADDRINUSE on its channel port that way. Ports here come from below the ephemeral range, where the kernel
 * never picks, and each one is claimed by a file (created exclusively, holding the claimer's pid) so test files
 * running side by side never pick the same one. A claim whose process is gone is taken over; claims are removed
 * when the process exits.
 */
const LOW = 20_000;
const HIGH = 32_000; // exclusive; Linux's ephemeral range starts at 32768
const claimDir = join(tmpdir(), 'mware-test-ports');
const claimed = new Set<number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process; false when a living process holds it. */
export function claimPort(port: number): boolean {
  const file = join(claimDir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      claimed.add(port);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // removed meanwhile: try again
      }
      // A claim being written has no pid yet: treat it as held.
      if (!Number.isInteger(holder) || holder <= 0 || alive(holder)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

function release(port: number): void {
  claimed.delete(port);
  rmSync(join(claimDir, String(port)), { force: true });
}

process.once('exit', () => {
  for (const port of claimed) release(port);
});

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now and that no other test process will be given. */
export async function freePort(): Promise<number> {
  mkdirSync(claimDir, { recursive: true });
  for (let tries = 0; tries < 500; tries++) {
    const port = randomInt(LOW, HIGH);
    if (claimed.has(port) || !claimPort(port)) continue;
    if (await bindable(port)) return port;
    release(port); // something outside the tests listens there
  }
  throw new Error(`no free port in ${LOW}–${HIGH - 1} after 500 tries (claims in ${claimDir})`);
}
