import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PgCluster, PgServer } from '../../topology/schema.ts';
import type { PgTarget } from '../../src/pg/db.ts';
import type { SshTarget } from '../../src/ssh/options.ts';

/**
 * A replicated cluster's settings compiled into a fully defaulted form before use: each server with its cluster's
 * keys merged in (04-postgres.md: "Keys on the cluster level apply to all its servers unless a server overrides
 * them"), and the paths the controller derives when the file leaves them out.
 */

export interface PgServerSettings {
  /** `<pg_host>:<pg_port>`. */
  name: string;
  ssh: SshTarget;
  /** For the controller's own queries (probe, promote, CHECKPOINT): `pg_user`, else the replica user. */
  db: PgTarget;
  replica: { user: string; password: string | undefined };
  pgCtl: string;
  pgBasebackup: string;
  /** `pg_rewind_command`, else beside pg_ctl. */
  pgRewind: string;
  /** `pg_controldata`, beside pg_ctl. */
  pgControldata: string;
  dataFolder: string;
  /** Where `postgresql.conf` is (`pg_ctl -D` takes it): the data folder unless the file says otherwise. */
  configFolder: string;
  /** Where a replaced data folder is kept; absent: beside the data folder (a problem is reported). */
  backupFolder: string | undefined;
  logFile: string | undefined;
  signalFile: string | undefined;
}

export interface PgClusterSettings {
  key: string;
  referee: string | undefined;
  maxLagBytes: number;
  confirmMs: number;
  probeMs: number;
  servers: PgServerSettings[];
}

type Merged = PgServer & Partial<Pick<PgCluster, 'key'>>;

export function compileCluster(
  c: PgCluster,
  readFile: (path: string) => string = readKey,
): PgClusterSettings {
  const { servers, key, referee, max_lag_on_failover, confirm_ms, probe_ms, ...defaults } = c;
  return {
    key,
    referee,
    maxLagBytes: max_lag_on_failover,
    confirmMs: confirm_ms,
    probeMs: probe_ms,
    servers: servers.map((s) => compileServer({ ...defaults, ...stripUndefined(s) }, readFile)),
  };
}

function compileServer(s: Merged, readFile: (path: string) => string): PgServerSettings {
  // The validator made these present (PG_SERVER_REQUIRED); a missing one here is a programming error.
  const need = <K extends keyof Merged>(k: K): NonNullable<Merged[K]> => {
    const v = s[k];
    if (v === undefined) throw new Error(`pg_controller server without ${String(k)}`);
    return v;
  };
  const pgHost = need('pg_host');
  const pgPort = need('pg_port');
  const pgCtl = need('pg_ctl_command');
  const bin = dirname(pgCtl);
  const dataFolder = need('pg_data_folder');
  const key = s.ssh_key ?? (s.ssh_key_file !== undefined ? readFile(s.ssh_key_file) : undefined);
  return {
    name: `${pgHost}:${pgPort}`,
    ssh: {
      host: need('ssh_host'),
      port: s.ssh_port ?? 22,
      user: need('ssh_user'),
      ...(s.ssh_pwd !== undefined && { password: s.ssh_pwd }),
      ...(key !== undefined && { privateKey: key }),
      ...(s.ssh_host_key !== undefined && { hostKeyFingerprint: s.ssh_host_key }),
    },
    db: {
      host: pgHost,
      port: pgPort,
      database: s.pg_database ?? 'postgres',
      user: s.pg_user ?? need('pg_replica_user'),
      ...((s.pg_user !== undefined ? s.pg_pwd : s.pg_replica_pwd) !== undefined && {
        password: s.pg_user !== undefined ? s.pg_pwd : s.pg_replica_pwd,
      }),
    },
    replica: { user: need('pg_replica_user'), password: s.pg_replica_pwd },
    pgCtl,
    pgBasebackup: need('pg_basebackup_command'),
    pgRewind: s.pg_rewind_command ?? join(bin, 'pg_rewind'),
    pgControldata: join(bin, 'pg_controldata'),
    dataFolder,
    configFolder: s.pg_config_folder ?? dataFolder,
    backupFolder: s.pg_backup_folder,
    logFile: s.pg_log_filepath,
    signalFile: s.pg_signal_filepath,
  };
}

function readKey(path: string): string {
  return readFileSync(path, 'utf8');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Every secret a cluster's settings hold (for scrubbing what leaves the controller). */
export function clusterSecrets(c: PgClusterSettings): string[] {
  return c.servers
    .flatMap((s) => [s.ssh.password, s.ssh.privateKey, s.db.password, s.replica.password])
    .filter((v): v is string => v !== undefined && v !== '');
}
