import { readFileSync } from 'node:fs';
import type { SshTarget } from '../../src/ssh/index.ts';
import type { BackupController } from '../../topology/schema.ts';
import { isoWeekday } from './schedule.ts';

/**
 * The backup controller's configuration compiled into what a run uses: SSH targets with their credentials
 * resolved (key files read), storage keys merged (a pgdb entry or the sync folder overrides the top level), and
 * the list of every secret, for scrubbing.
 */

export type BackupConfig = BackupController;
type PgdbEntry = BackupConfig['pgdb'][number];
type StorageKeys = Pick<
  BackupConfig,
  | 'storage_ssh_host'
  | 'storage_ssh_port'
  | 'storage_ssh_user'
  | 'storage_ssh_pwd'
  | 'storage_ssh_key'
  | 'storage_ssh_key_file'
  | 'storage_ssh_path'
>;

export interface Storage {
  target: SshTarget;
  /** `storage_ssh_path` before expansion. */
  path: string;
}

export interface DbServer {
  ssh: SshTarget;
  pgHost: string;
  pgPort: number;
}

function pick<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function storageKeys(o: StorageKeys): StorageKeys {
  return {
    storage_ssh_host: o.storage_ssh_host,
    storage_ssh_port: o.storage_ssh_port,
    storage_ssh_user: o.storage_ssh_user,
    storage_ssh_pwd: o.storage_ssh_pwd,
    storage_ssh_key: o.storage_ssh_key,
    storage_ssh_key_file: o.storage_ssh_key_file,
    storage_ssh_path: o.storage_ssh_path,
  };
}

function keyOf(key: string | undefined, file: string | undefined): string | undefined {
  return key ?? (file === undefined ? undefined : readFileSync(file, 'utf8'));
}

/** The storage of a pgdb entry (`over` = the entry) or of the sync folder (`over` = sync_folder). */
export function storageOf(cfg: BackupConfig, over: StorageKeys): Storage {
  const m = { ...pick(storageKeys(cfg)), ...pick(storageKeys(over)) };
  // The topology rules require these three (topology/rules.ts): a file that passed validation has them.
  if (
    m.storage_ssh_host === undefined ||
    m.storage_ssh_user === undefined ||
    m.storage_ssh_path === undefined
  )
    throw new Error(
      'backup_controller: storage_ssh_host, storage_ssh_user and storage_ssh_path are required',
    );
  const privateKey = keyOf(m.storage_ssh_key, m.storage_ssh_key_file);
  return {
    target: {
      host: m.storage_ssh_host,
      port: m.storage_ssh_port ?? 22,
      user: m.storage_ssh_user,
      ...(m.storage_ssh_pwd !== undefined && { password: m.storage_ssh_pwd }),
      ...(privateKey !== undefined && { privateKey }),
    },
    path: m.storage_ssh_path,
  };
}

export function dbServersOf(entry: PgdbEntry): DbServer[] {
  const privateKey = keyOf(entry.ssh_key, entry.ssh_key_file);
  return entry.servers.map((s) => ({
    ssh: {
      host: s.ssh_host,
      port: s.ssh_port ?? entry.ssh_port,
      user: entry.ssh_user,
      ...(entry.ssh_pwd !== undefined && { password: entry.ssh_pwd }),
      ...(privateKey !== undefined && { privateKey }),
    },
    pgHost: s.pg_host,
    pgPort: s.pg_port ?? entry.pg_port,
  }));
}

/** How a pgdb entry is named in reports and its archive's file name: its first server's PostgreSQL address. */
export function pgdbName(entry: PgdbEntry): string {
  const first = entry.servers[0];
  return first ? `pg-${first.pg_host}-${first.pg_port ?? entry.pg_port}` : 'pg';
}

/** Every secret of the configuration (passwords and keys), for scrubbing whatever a run reports. */
export function secretsOf(cfg: BackupConfig): string[] {
  const out: (string | undefined)[] = [cfg.storage_ssh_pwd, cfg.storage_ssh_key];
  for (const e of cfg.pgdb)
    out.push(e.ssh_pwd, e.ssh_key, e.pg_replica_pwd, e.storage_ssh_pwd, e.storage_ssh_key);
  if (cfg.sync_folder) out.push(cfg.sync_folder.storage_ssh_pwd, cfg.sync_folder.storage_ssh_key);
  return out.filter((s): s is string => s !== undefined && s !== '');
}

/**
 * `storage_ssh_path` with its templates expanded: `%weekday` (1 = Monday … 7 = Sunday), `%date` (YYYY-MM-DD), both
 * in local time, and `%host` (the database server the backup was taken from; for the sync folder, this node's
 * host name).
 */
export function expandPath(template: string, t: number, host: string): string {
  const d = new Date(t);
  const date = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  return template
    .replaceAll('%weekday', String(isoWeekday(t)))
    .replaceAll('%date', date)
    .replaceAll('%host', host);
}

/** A word for a POSIX shell, quoted whatever it holds. */
export function shellWord(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
