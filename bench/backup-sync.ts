// Backup controller, the :SYNC folder alone: the same tree (2,000 text files of 20 kB and 20 random files of 2 MB,
// ~80 MB, plus an excluded folder) sent to a real sshd on 127.0.0.1 by `send_mode: rsync` (into an empty folder,
// then again unchanged) and by `send_mode: zip` (packed, SFTP, renamed). Median of BENCH_TRIALS runs (default 3).
// Opt-in: node bench/run.mjs backup-sync.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runBackup } from '../actors/backup/run.ts';
import type { BackupRunReport } from '../actors/backup/protocol.ts';
import { BackupController } from '../topology/schema.ts';
import { startSshd, tempDir } from '../test/harness/index.ts';
import { fmt, median, report } from './stats.ts';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);

const storage = await startSshd();
const src = tempDir('bench-sync-src');
const work = tempDir('bench-sync-work');
try {
  const source = join(src.path, 'SYNC');
  let bytes = 0;
  const line = 'INSERT INTO cdr VALUES (42, "2026-12-07 03:44:00", "sip:1001@127.0.0.1", 3600);\n';
  for (let i = 0; i < 2_000; i++) {
    const d = join(source, `calls/${i % 50}`);
    mkdirSync(d, { recursive: true });
    const text = line.repeat(Math.ceil(20_000 / line.length)).slice(0, 20_000);
    writeFileSync(join(d, `cdr-${i}.sql`), text);
    bytes += text.length;
  }
  mkdirSync(join(source, 'records'), { recursive: true });
  for (let i = 0; i < 20; i++) {
    writeFileSync(join(source, 'records', `rec-${i}.wav`), randomBytes(2_000_000));
    bytes += 2_000_000;
  }
  mkdirSync(join(source, 'x/some_temp_files'), { recursive: true });
  for (let i = 0; i < 100; i++) writeFileSync(join(source, 'x/some_temp_files', `t${i}.tmp`), 'scratch\n');
  const cfg = (mode: 'rsync' | 'zip', path: string) =>
    BackupController.parse({
      hours_interval: [20, 3],
      storage_ssh_host: '127.0.0.1',
      storage_ssh_port: storage.port,
      storage_ssh_user: storage.user,
      storage_ssh_pwd: storage.password,
      storage_ssh_path: `${storage.dir}/${path}`,
      sync_folder: { send_mode: mode, source, excluded_paths: ['**/some_temp_files/*'] },
    });
  const once = async (mode: 'rsync' | 'zip', path: string): Promise<BackupRunReport> => {
    const r = await runBackup(cfg(mode, path), {
      trigger: 'run-now',
      now: () => performance.now(),
      wallNow: () => Date.now(),
      workDir: work.path,
      host: hostname(),
    });
    if (!r.ok) throw new Error(`${mode} run failed: ${r.error ?? ''}`);
    return r;
  };
  const full: number[] = [];
  const again: number[] = [];
  const zipped: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const r1 = await once('rsync', `rsync-${i}`);
    const r2 = await once('rsync', `rsync-${i}`);
    const z = await once('zip', 'zip');
    full.push(r1.steps[0]?.ms ?? NaN);
    again.push(r2.steps[0]?.ms ?? NaN);
    zipped.push(z.steps[0]?.ms ?? NaN);
    sizes.push(z.bytes);
    console.log(
      `trial ${i + 1}: rsync ${fmt((r1.steps[0]?.ms ?? 0) / 1000, 2)} s (${fmt(r1.bytes / 1e6)} MB sent), unchanged ${fmt((r2.steps[0]?.ms ?? 0) / 1000, 2)} s (${fmt(r2.bytes / 1e6, 2)} MB), zip ${fmt((z.steps[0]?.ms ?? 0) / 1000, 2)} s (archive ${fmt(z.bytes / 1e6)} MB)`,
    );
  }
  const what = `the ${fmt(bytes / 1e6)} MB folder of 2,020 files (median of ${TRIALS})`;
  report(`sync rsync into an empty folder, ${what}`, `${fmt(median(full) / 1000, 2)} s`);
  report(`sync rsync again, unchanged, ${what}`, `${fmt(median(again) / 1000, 2)} s`);
  report(
    `sync zip (pack, SFTP, rename), ${what}`,
    `${fmt(median(zipped) / 1000, 2)} s, archive ${fmt(median(sizes) / 1e6)} MB`,
  );
} finally {
  await storage.stop();
  src.cleanup();
  work.cleanup();
}
