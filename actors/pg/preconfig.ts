import type { PgServerSettings } from './settings.ts';

/**
 * The pre-configuration check (04-postgres.md): what a server lacks for the controller to manage it, in plain
 * words, read from the running server's own settings. Reported as the server actor's state, never thrown: a server
 * that lacks something is still watched.
 */

export interface SettingRow {
  name: string;
  setting: string;
}

export const SETTINGS_SQL = `SELECT name, setting FROM pg_settings WHERE name = ANY($1)`;
export const SETTINGS_ASKED = [
  'listen_addresses',
  'hot_standby',
  'wal_level',
  'max_wal_senders',
  'wal_keep_size',
  'wal_log_hints',
  'data_checksums',
  'promote_trigger_file',
  'server_version_num',
];

/** Problems found in the server's settings (`rows` from {@link SETTINGS_SQL}). */
export function settingProblems(rows: readonly SettingRow[], s: PgServerSettings): string[] {
  const v = new Map(rows.map((r) => [r.name, r.setting]));
  const out: string[] = [];
  const listen = v.get('listen_addresses') ?? '';
  const addresses = listen.split(',').map((a) => a.trim());
  if (!addresses.includes('*') && !addresses.includes(s.db.host) && !addresses.includes('0.0.0.0'))
    out.push(`listen_addresses is '${listen}': the standby cannot reach this server at ${s.db.host}`);
  if (v.get('hot_standby') === 'off')
    out.push('hot_standby is off: as a standby this server cannot be queried, so its lag cannot be watched');
  if (v.get('wal_level') === 'minimal')
    out.push("wal_level is 'minimal': streaming replication needs 'replica'");
  if (Number(v.get('max_wal_senders') ?? '0') < 2)
    out.push('max_wal_senders is below 2: there is no room for a standby and a base backup at once');
  if (v.get('wal_keep_size') === '0')
    out.push('wal_keep_size is 0: a standby that falls behind must be rebuilt rather than catch up');
  if (v.get('wal_log_hints') !== 'on' && v.get('data_checksums') !== 'on')
    out.push(
      'neither wal_log_hints nor data checksums are on: a returning primary can only rejoin by pg_basebackup, not pg_rewind',
    );
  const version = Number(v.get('server_version_num') ?? '0');
  if (s.signalFile !== undefined && version < 160000 && v.get('promote_trigger_file') !== s.signalFile)
    out.push(
      `promote_trigger_file is not pg_signal_filepath (${s.signalFile}): the trigger-file fallback cannot promote`,
    );
  if (s.backupFolder === undefined)
    out.push('pg_backup_folder is not set: a replaced data folder is kept beside the data folder');
  return out;
}
