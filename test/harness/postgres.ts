import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requirePgBinary } from './binaries.ts';
import { HarnessError } from './errors.ts';
import { ManagedProcess, run } from './process.ts';
import { freePort } from './ports.ts';
import { tempDir } from './temp.ts';

/**
 * Real PostgreSQL 15 servers for tests, on 127.0.0.1 and free ports. postgres refuses to run as root, so every
 * PostgreSQL program runs as the unprivileged `postgres` system user, in a temporary directory it owns.
 */

export interface PgServer {
  name: string;
  host: '127.0.0.1';
  port: number;
  dataDir: string;
  /** Superuser connection (trust authentication on loopback). */
  url: string;
  process: ManagedProcess;
  /** Fast shutdown (SIGINT), then the directory is removed. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. The directory stays for a restart or a rejoin. */
  kill(): Promise<void>;
}

export interface PgOptions {
  name?: string;
  /** Start as a streaming standby of this primary (pg_basebackup -R -X stream). */
  standbyOf?: PgServer;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

export function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new HarnessError('the postgres system user is missing: apt-get install -y postgresql-15');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(opts: PgOptions = {}): Promise<PgServer> {
  const user = postgresUser();
  const name = opts.name ?? (opts.standbyOf ? 'pg-standby' : 'pg-primary');
  const dir = tempDir(name, user);
  const dataDir = join(dir.path, 'data');
  const asPostgres = { uid: user.uid, gid: user.gid, env: { ...process.env, LC_ALL: 'C', HOME: dir.path } };
  if (opts.standbyOf) {
    const p = opts.standbyOf;
    await run(
      'pg_basebackup',
      requirePgBinary('pg_basebackup'),
      [
        '-h',
        p.host,
        '-p',
        String(p.port),
        '-U',
        'postgres',
        '-D',
        dataDir,
        '-R',
        '-X',
        'stream',
        '--no-sync',
      ],
      asPostgres,
    );
  } else {
    await run(
      'initdb',
      requirePgBinary('initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      asPostgres,
    );
  }
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir.path,
    wal_level: 'replica',
    max_wal_senders: '10',
    hot_standby: 'on',
    wal_keep_size: '64MB',
    fsync: 'off',
    logging_collector: 'off',
    ...opts.settings,
  };
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const proc = new ManagedProcess(name, requirePgBinary('postgres'), args, asPostgres);
  await proc.waitForLine(
    opts.standbyOf ? /ready to accept read-only connections/ : /ready to accept connections/,
    30_000,
  );
  return {
    name,
    host: '127.0.0.1',
    port,
    dataDir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    process: proc,
    stop: async () => {
      await proc.stop('SIGINT', 15_000);
      dir.cleanup();
    },
    kill: async () => {
      await proc.stop('SIGKILL');
    },
  };
}
