import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PG_BIN, requirePgBinary } from './binaries.ts';
import { descendantsOf, running } from './pids.ts';
import { postgresUser } from './postgres.ts';
import { run } from './process.ts';
import { freePort } from './ports.ts';
import type { SshServer } from './sshd.ts';
import { startSshd } from './sshd.ts';
import { tempDir } from './temp.ts';

/**
 * A database host for the replication controller's tests: a real PostgreSQL 15 managed by `pg_ctl` (the controller
 * stops, starts, rewinds and rebuilds it over SSH, so the harness does not hold it as a child process) and its own
 * real sshd, both on 127.0.0.1. As on Debian, `postgresql.conf` lives in a config folder outside the data folder
 * (`pg_config_folder`): a base backup replaces the data folder without taking the other server's port with it.
 *
 * "Host lost" is both its postmaster and its sshd killed: the host answers nothing any more.
 */

export interface PgHostServer {
  name: string;
  pgPort: number;
  ssh: SshServer;
  dir: string;
  dataDir: string;
  confDir: string;
  logFile: string;
  backupDir: string;
  url: string;
  /** This host as a `pg_controller` server entry (password authentication over SSH). */
  entry(): Record<string, unknown>;
  /** `pg_ctl start` on the host, as the controller would. */
  start(): Promise<void>;
  /** SIGKILL of the postmaster only (the host lives on). */
  killPostmaster(): Promise<void>;
  /** The postmaster and the sshd killed: the host answers nothing. */
  lose(): Promise<void>;
  /** The host is back: its sshd again (postgres stays down until started). */
  comeBack(): Promise<void>;
  postmasterPid(): number | undefined;
  stop(): Promise<void>;
}

const SETTINGS = (o: { data: string; conf: string; port: number; sockets: string }) => ({
  data_directory: `'${o.data}'`,
  hba_file: `'${join(o.conf, 'pg_hba.conf')}'`,
  ident_file: `'${join(o.conf, 'pg_ident.conf')}'`,
  listen_addresses: `'127.0.0.1'`,
  port: String(o.port),
  unix_socket_directories: `'${o.sockets}'`,
  wal_level: 'replica',
  max_wal_senders: '10',
  hot_standby: 'on',
  wal_keep_size: `'256MB'`,
  wal_log_hints: 'on',
  fsync: 'off',
  synchronous_commit: 'on',
  logging_collector: 'off',
  wal_receiver_status_interval: `'1s'`,
  wal_retrieve_retry_interval: `'200ms'`,
});

/** Starts the first host as a primary, the others as its streaming standbys. */
export async function startPgHosts(count: number): Promise<PgHostServer[]> {
  const hosts: PgHostServer[] = [];
  for (let i = 0; i < count; i++) hosts.push(await startPgHost(`db${i + 1}`, hosts[0]));
  return hosts;
}

export async function startPgHost(name: string, standbyOf?: PgHostServer): Promise<PgHostServer> {
  const user = postgresUser();
  const as = { uid: user.uid, gid: user.gid, env: { ...process.env, LC_ALL: 'C' } };
  const dir = tempDir(`pghost-${name}`, user);
  const data = join(dir.path, 'data');
  const conf = join(dir.path, 'conf');
  const logFile = join(dir.path, 'postgres.log');
  const backupDir = join(dir.path, 'backup');
  const port = await freePort();
  if (standbyOf)
    await run(
      'pg_basebackup',
      requirePgBinary('pg_basebackup'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(standbyOf.pgPort),
        '-U',
        'postgres',
        '-D',
        data,
        '-R',
        '-X',
        'stream',
        '--no-sync',
      ],
      as,
    );
  else
    await run(
      'initdb',
      requirePgBinary('initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      as,
    );
  for (const d of [conf, backupDir]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    chownSync(d, user.uid, user.gid);
  }
  for (const f of ['pg_hba.conf', 'pg_ident.conf']) {
    copyFileSync(join(data, f), join(conf, f));
    chownSync(join(conf, f), user.uid, user.gid);
  }
  const settings = SETTINGS({ data, conf, port, sockets: dir.path });
  writeFileSync(
    join(conf, 'postgresql.conf'),
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  chownSync(join(conf, 'postgresql.conf'), user.uid, user.gid);
  const ssh = await startSshd();
  const pgCtl = join(PG_BIN, 'pg_ctl');
  const pidOf = (): number | undefined => {
    const file = join(data, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  /**
   * SIGKILLs the postmaster and its backends, and waits until none runs. Backends left running (they only notice
   * their postmaster is gone at their next check) keep the old shared memory attached, and a new postmaster then
   * refuses to start ("another server might be running"): a busy machine made that visible.
   */
  const killPostmaster = async () => {
    const pid = pidOf();
    if (pid === undefined) return;
    const all = [pid, ...descendantsOf(pid)];
    for (const p of all)
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    for (const end = performance.now() + 20_000; all.some(running) && performance.now() < end;)
      await new Promise((r) => setTimeout(r, 10));
  };
  const host: PgHostServer = {
    name,
    pgPort: port,
    ssh,
    dir: dir.path,
    dataDir: data,
    confDir: conf,
    logFile,
    backupDir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    entry: () => ({
      ssh_host: '127.0.0.1',
      ssh_port: ssh.port,
      ssh_user: ssh.user,
      ssh_pwd: ssh.password,
      pg_host: '127.0.0.1',
      pg_port: port,
      pg_user: 'postgres',
      pg_replica_user: 'postgres',
      pg_ctl_command: pgCtl,
      pg_basebackup_command: join(PG_BIN, 'pg_basebackup'),
      pg_data_folder: data,
      pg_config_folder: conf,
      pg_backup_folder: backupDir,
      pg_log_filepath: logFile,
    }),
    start: async () => {
      await run('pg_ctl', pgCtl, ['-D', conf, '-l', logFile, '-w', '-t', '60', 'start'], as);
    },
    killPostmaster,
    lose: async () => {
      await ssh.kill();
      await killPostmaster();
    },
    comeBack: () => ssh.restart(),
    postmasterPid: pidOf,
    stop: async () => {
      await killPostmaster();
      await ssh.stop();
      dir.cleanup();
    },
  };
  await host.start();
  return host;
}
