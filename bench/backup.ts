// Backup controller: one run (pg_basebackup over SSH, pg_verifybackup, zip, SFTP to the storage) of a ~1 GB
// database (pgbench scale 70), on this machine: a real PostgreSQL 15 and two real sshd (the database host and the
// storage), all on 127.0.0.1. Median of BENCH_TRIALS runs (default 3). Opt-in: node bench/run.mjs backup.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runBackup } from '../actors/backup/run.ts';
import type { BackupStepName } from '../actors/backup/protocol.ts';
import { isoWeekday } from '../actors/backup/schedule.ts';
import { BackupController } from '../topology/schema.ts';
import { pgQueryOnce } from '../src/pg/db.ts';
import {
  postgresUser,
  requirePgBinary,
  run,
  startPostgres,
  startSshd,
  tempDir,
} from '../test/harness/index.ts';
import { fmt, median, report } from './stats.ts';

const SCALE = Number(process.env.BENCH_BACKUP_SCALE ?? 70);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
const PG_BIN = '/usr/lib/postgresql/15/bin';
const owner = postgresUser();

const pg = await startPostgres({ name: 'bench-backup' });
const [db, storage] = await Promise.all([startSshd(), startSshd()]);
const work = tempDir('bench-backup-work', owner);
try {
  const t0 = performance.now();
  await run(
    'pgbench',
    requirePgBinary('pgbench'),
    ['-i', '-q', '-s', String(SCALE), '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', 'postgres'],
    {
      uid: owner.uid,
      gid: owner.gid,
    },
  );
  const size = await pgQueryOnce<{ n: string }>(
    { host: '127.0.0.1', port: pg.port, database: 'postgres', user: 'postgres' },
    'select pg_database_size(current_database())::text as n',
  );
  const dbBytes = Number(size.rows[0]?.n ?? 0);
  console.log(
    `pgbench -i -s ${SCALE}: ${fmt(dbBytes / 1e6)} MB in ${fmt((performance.now() - t0) / 1000, 1)} s`,
  );
  const cfg = BackupController.parse({
    hours_interval: [20, 3],
    storage_ssh_host: '127.0.0.1',
    storage_ssh_port: storage.port,
    storage_ssh_user: storage.user,
    storage_ssh_pwd: storage.password,
    storage_ssh_path: `${storage.dir}/dow_%weekday`,
    pgdb: [
      {
        servers: [{ ssh_host: '127.0.0.1', pg_host: '127.0.0.1', pg_port: pg.port }],
        ssh_port: db.port,
        ssh_user: db.user,
        ssh_pwd: db.password,
        pg_replica_user: 'postgres',
        pg_basebackup_command: `${PG_BIN}/pg_basebackup`,
      },
    ],
  });
  const totals: number[] = [];
  const sizes: number[] = [];
  const perStep = new Map<BackupStepName, number[]>();
  for (let i = 0; i < TRIALS; i++) {
    const r = await runBackup(cfg, {
      trigger: 'run-now',
      now: () => performance.now(),
      wallNow: () => Date.now(),
      workDir: work.path,
      host: hostname(),
    });
    if (!r.ok) throw new Error(`backup run failed: ${r.error ?? ''}`);
    const ms = r.steps.reduce((n, s) => n + s.ms, 0);
    totals.push(ms);
    for (const s of r.steps) perStep.set(s.step, [...(perStep.get(s.step) ?? []), s.ms]);
    const archive = join(storage.dir, `dow_${isoWeekday(Date.now())}`, `pg-127.0.0.1-${pg.port}.zip`);
    sizes.push(statSync(archive).size);
    console.log(`trial ${i + 1}: ${fmt(ms / 1000, 1)} s, archive ${fmt(statSync(archive).size / 1e6)} MB`);
  }
  report(
    `backup run of a ${fmt(dbBytes / 1e6)} MB database (median of ${TRIALS})`,
    `${fmt(median(totals) / 1000, 1)} s, archive ${fmt(median(sizes) / 1e6)} MB (${fmt((100 * median(sizes)) / dbBytes)} % of the database)`,
  );
  for (const [step, xs] of perStep) report(`  ${step}`, `${fmt(median(xs) / 1000, 1)} s`);
} finally {
  await Promise.allSettled([db.stop(), storage.stop()]);
  await pg.stop();
  work.cleanup();
}
