import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pgQueryOnce, pgLimits } from '../../src/pg/db.ts';
import type { SshPool, SshTarget } from '../../src/ssh/index.ts';
import { endpoint } from '../../src/ssh/index.ts';
import type { BackupConfig, DbServer } from './targets.ts';
import { dbServersOf, expandPath, pgdbName, shellWord, storageOf } from './targets.ts';
import type { StepRecorder } from './steps.ts';
import { uploadArchive } from './upload.ts';

/**
 * One pgdb entry's backup: pick a server (a standby preferred), `pg_basebackup` there into a temporary folder
 * (plain format, WAL streamed, with its `backup_manifest`), `pg_verifybackup` it, zip it there, fetch the archive
 * here and send it to the storage by SFTP. The temporary folders, remote and local, are removed whatever happens.
 */

export interface ArchiveLimits {
  /** Probing a server (SSH and PostgreSQL each). */
  probeMs: number;
  /** pg_basebackup, pg_verifybackup and zip each. */
  commandMs: number;
  /** Each SFTP transfer. */
  transferMs: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  probeMs: 3_000,
  commandMs: 6 * 3600_000,
  transferMs: 6 * 3600_000,
};

type PgdbEntry = BackupConfig['pgdb'][number];

export async function archivePgdb(
  cfg: BackupConfig,
  entry: PgdbEntry,
  o: { ssh: SshPool; steps: StepRecorder; localDir: string; wallNow: number; limits: ArchiveLimits },
): Promise<void> {
  const name = pgdbName(entry);
  const { ssh, steps, limits } = o;
  let picked: DbServer | undefined;
  await steps.run('pick-server', name, async () => {
    const s = await pickServer(ssh, entry, limits.probeMs);
    picked = s.server;
    return {
      detail: `${s.server.ssh.host} (${s.standby ? 'standby' : 'primary'}, pg ${s.server.pgHost}:${s.server.pgPort})`,
    };
  });
  const chosen = picked as DbServer;
  const db = chosen.ssh;
  const basebackup = entry.pg_basebackup_command ?? 'pg_basebackup';
  // pg_verifybackup lives beside pg_basebackup (and finds pg_waldump there for the WAL check).
  const verify = entry.pg_basebackup_command
    ? join(dirname(basebackup), 'pg_verifybackup')
    : 'pg_verifybackup';
  const localArchive = join(o.localDir, `${name}.zip`);
  let remoteTmp: string | undefined;
  try {
    await steps.run('basebackup', name, async () => {
      remoteTmp = (
        await ssh.execOk(db, 'mktemp -d "${TMPDIR:-/tmp}/mware-backup.XXXXXX"', { timeoutMs: limits.probeMs })
      ).stdout.trim();
      const data = `${remoteTmp}/data`;
      const args = [
        shellWord(basebackup),
        `-h ${shellWord(chosen.pgHost)}`,
        `-p ${chosen.pgPort}`,
        `-U ${shellWord(entry.pg_replica_user)}`,
        `-D ${shellWord(data)}`,
        '-F p -X stream -c fast --no-password',
      ].join(' ');
      // The password goes through stdin into the environment of pg_basebackup only: never in the command line,
      // which the remote ps, sshd's log and our error messages may show.
      const pwd = entry.pg_replica_pwd;
      const command =
        pwd === undefined ? `exec ${args}` : `IFS= read -r PGPASSWORD && export PGPASSWORD && exec ${args}`;
      await ssh.execOk(db, command, {
        timeoutMs: limits.commandMs,
        ...(pwd !== undefined && { stdin: `${pwd}\n` }),
      });
      return { bytes: await remoteSize(ssh, db, `du -sb ${shellWord(data)} | cut -f1`), detail: data };
    });
    const tmp = remoteTmp as string;
    await steps.run('verify', name, async () => {
      await ssh.execOk(db, `${shellWord(verify)} --quiet ${shellWord(`${tmp}/data`)}`, {
        timeoutMs: limits.commandMs,
      });
      return { detail: 'pg_verifybackup: backup_manifest checked' };
    });
    const remoteArchive = `${tmp}/${name}.zip`;
    await steps.run('zip', name, async () => {
      await ssh.execOk(db, `cd ${shellWord(`${tmp}/data`)} && zip -q -r -y ${shellWord(remoteArchive)} .`, {
        timeoutMs: limits.commandMs,
      });
      return {
        bytes: await remoteSize(ssh, db, `stat -c %s ${shellWord(remoteArchive)}`),
        detail: remoteArchive,
      };
    });
    await steps.run('download', name, async () => {
      await ssh.get(db, remoteArchive, localArchive, limits.transferMs);
      return { bytes: statSync(localArchive).size, detail: `from ${endpoint(db)}` };
    });
    await steps.run('upload', name, async () => {
      const storage = storageOf(cfg, entry);
      return uploadArchive(ssh, storage.target, {
        localArchive,
        dir: expandPath(storage.path, o.wallNow, db.host),
        name: `${name}.zip`,
        probeMs: limits.probeMs,
        transferMs: limits.transferMs,
      });
    });
  } finally {
    if (remoteTmp !== undefined && remoteTmp.includes('mware-backup.'))
      await ssh.exec(db, `rm -rf -- ${shellWord(remoteTmp)}`, { timeoutMs: 60_000 }).catch(() => undefined);
  }
}

async function remoteSize(ssh: SshPool, target: SshTarget, command: string): Promise<number> {
  const n = Number((await ssh.execOk(target, command, { timeoutMs: 60_000 })).stdout.trim());
  return Number.isFinite(n) ? n : 0;
}

/**
 * The first standby reachable by SSH and PostgreSQL, else the first reachable primary. Every server is probed at
 * once, each within `probeMs`.
 */
export async function pickServer(
  ssh: SshPool,
  entry: PgdbEntry,
  probeMs: number,
): Promise<{ server: DbServer; standby: boolean }> {
  const servers = dbServersOf(entry);
  const limits = pgLimits({
    connectTimeoutMs: probeMs,
    statementTimeoutMs: probeMs,
    queryTimeoutMs: probeMs + 500,
  });
  const probes = await Promise.allSettled(
    servers.map(async (s) => {
      await ssh.execOk(s.ssh, 'true', { timeoutMs: probeMs });
      const r = await pgQueryOnce<{ standby: boolean }>(
        {
          host: s.pgHost,
          port: s.pgPort,
          database: 'postgres',
          user: entry.pg_replica_user,
          ...(entry.pg_replica_pwd !== undefined && { password: entry.pg_replica_pwd }),
        },
        'select pg_is_in_recovery() as standby',
        [],
        limits,
      );
      return { server: s, standby: r.rows[0]?.standby === true };
    }),
  );
  const up = probes.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : []));
  const best = up.find((u) => u.standby) ?? up[0];
  if (best) return best;
  const why = probes.map((p, i) =>
    p.status === 'rejected'
      ? `${servers[i]?.ssh.host ?? '?'}: ${p.reason instanceof Error ? p.reason.message : String(p.reason)}`
      : '',
  );
  throw new Error(`no server is reachable (${why.join('; ')})`);
}
