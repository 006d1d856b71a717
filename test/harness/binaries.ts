import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { HarnessError } from './errors.ts';

/**
 * The real programs the harness runs, with the Debian package that provides each. `npm test` installs missing
 * ones (test/run.mjs); a test that still finds one missing fails with the package to install.
 */
export const BINARIES = {
  'redis-server': 'redis-server',
  'redis-sentinel': 'redis-sentinel',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  openssl: 'openssl',
  unshare: 'util-linux',
  rsync: 'rsync',
  snmptrapd: 'snmptrapd',
  snmpd: 'snmpd',
  pebble: 'pebble',
  'pebble-challtestsrv': 'pebble',
  tmux: 'tmux',
} as const;

export const PG_BIN = '/usr/lib/postgresql/15/bin';

const SEARCH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of `name`, or a HarnessError naming the Debian package that provides it. */
export function requireBinary(name: keyof typeof BINARIES, search: readonly string[] = SEARCH): string {
  for (const dir of search) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  throw new HarnessError(
    `${name} is not installed: apt-get install -y ${BINARIES[name]} (npm test does this when run as root)`,
  );
}

/** A PostgreSQL 15 server program; they come with the machine (postgresql-15). */
export function requirePgBinary(name: string): string {
  const p = join(PG_BIN, name);
  try {
    accessSync(p, constants.X_OK);
    return p;
  } catch {
    throw new HarnessError(`${p} is missing: apt-get install -y postgresql-15`);
  }
}
