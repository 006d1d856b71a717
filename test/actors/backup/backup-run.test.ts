import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BackupArgs, BackupSaved } from '../../../actors/backup/backup-actor.ts';
import { backupActor, RETRY_MS } from '../../../actors/backup/backup-actor.ts';
import { runBackup } from '../../../actors/backup/run.ts';
import type { BackupProtocol, BackupRunReport, BackupStatus } from '../../../actors/backup/protocol.ts';
import { isoWeekday } from '../../../actors/backup/schedule.ts';
import type { Behavior } from '../../../src/actor-system/kind.ts';
import { createLogger } from '../../../src/log/log.ts';
import { pgQueryOnce } from '../../../src/pg/db.ts';
import { ManualClock } from '../../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../../src/supervision/events.ts';
import { BackupController } from '../../../topology/schema.ts';
import type { PgServer, SshServer } from '../../harness/index.ts';
import {
  freePort,
  postgresUser,
  PROJECT_ROOT,
  requirePgBinary,
  run,
  startPostgres,
  startSshd,
  tempDir,
} from '../../harness/index.ts';
import { until } from '../../harness/poll.ts';
import { testActorContext } from '../../support/actor-context.ts';

// Real servers, started once for the file: a PostgreSQL 15 primary and its streaming standby, an OpenSSH server as
// their `ssh_host` and a second one as the storage server (all on 127.0.0.1), and rsync.

const REPLICA_PWD = 'replica-Pw-7f3k9';
const PG_BIN = '/usr/lib/postgresql/15/bin';
const MONDAY_NOON = new Date(2026, 2, 2, 12).getTime();
const MONDAY_NIGHT = new Date(2026, 2, 2, 21).getTime();

let primary: PgServer;
let standby: PgServer;
let db: SshServer;
let storage: SshServer;
let syncSource: string;
const owner = postgresUser();
const cleanups: (() => void)[] = [];

/** Everything the tests captured: notices, log lines, replies and statuses (searched for secrets). */
const captured: string[] = [];

function tmp(name: string): string {
  const d = tempDir(name, owner);
  cleanups.push(() => d.cleanup());
  return d.path;
}

function config(over: Record<string, unknown> = {}, pgdbOver: Record<string, unknown> = {}) {
  return BackupController.parse({
    hours_interval: [20, 3],
    storage_ssh_host: '127.0.0.1',
    storage_ssh_port: storage.port,
    storage_ssh_user: storage.user,
    storage_ssh_pwd: storage.password,
    storage_ssh_path: `${storage.dir}/dow_%weekday/%host`,
    pgdb: [
      {
        servers: [
          { ssh_host: '127.0.0.1', pg_host: '127.0.0.1', pg_port: primary.port },
          { ssh_host: '127.0.0.1', pg_host: '127.0.0.1', pg_port: standby.port },
        ],
        ssh_port: db.port,
        ssh_user: db.user,
        ssh_pwd: db.password,
        pg_replica_user: 'era_replica',
        pg_replica_pwd: REPLICA_PWD,
        pg_basebackup_command: `${PG_BIN}/pg_basebackup`,
        ...pgdbOver,
      },
    ],
    ...over,
  });
}

interface Harness {
  actor: Behavior<BackupProtocol>;
  clock: ManualClock;
  notices: ServiceNotice[];
  saved: () => BackupSaved | undefined;
  workDir: string;
  status(): BackupStatus;
  runNow(): Promise<BackupRunReport>;
}

async function startActor(
  cfg: BackupController,
  wallStart: number,
  restored?: BackupSaved,
): Promise<Harness> {
  const clock = new ManualClock(0, wallStart);
  const notices: ServiceNotice[] = [];
  const workDir = tmp('backup-work');
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void captured.push(s) } });
  const args: BackupArgs = {
    config: cfg,
    workDir,
    host: hostname(),
    notify: (n) => {
      notices.push(n);
      captured.push(JSON.stringify(n));
    },
    limits: { probeMs: 3_000, commandMs: 120_000, transferMs: 120_000 },
  };
  const ctx = testActorContext<BackupSaved>('/backup', { clock, log, restored });
  const actor = await backupActor.create(args, ctx.context);
  const h = actor.handlers;
  return {
    actor,
    clock,
    notices,
    saved: ctx.saved,
    workDir,
    status: () => {
      const s = h.status.call(actor, null) as BackupStatus;
      captured.push(JSON.stringify(s));
      return s;
    },
    runNow: async () => {
      const r = await h['run-now'].call(actor, null);
      captured.push(JSON.stringify(r));
      return r;
    },
  };
}

/** One `run-now` of a fresh controller, stopped afterwards. */
async function runOnce(cfg: BackupController): Promise<BackupRunReport> {
  const h = await startActor(cfg, MONDAY_NOON);
  try {
    return await h.runNow();
  } finally {
    await h.actor.stop?.();
  }
}

function noSecretIn(texts: readonly string[], secrets: readonly string[]): void {
  for (const t of texts)
    for (const s of secrets) assert.ok(!t.includes(s), `a secret appears in: ${t.slice(0, 300)}`);
}

/** Every path under `dir`, relative: folders end with `/`, symlinks are `path -> target`. */
function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    // latin1: one character a byte, so a name that is not UTF-8 is seen as it is.
    for (const f of readdirSync(bytes(d), { encoding: 'latin1' })) {
      const p = join(d, f);
      const rel = relative(dir, p);
      const st = lstatSync(bytes(p));
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(bytes(p), { encoding: 'latin1' })}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/`);
        walk(p);
      } else out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

/** A path given as latin1 (one character a byte) as the bytes it stands for. */
function bytes(latin1: string): Buffer {
  return Buffer.from(latin1, 'latin1');
}

function writeTree(root: string, files: readonly string[]): void {
  for (const f of files) {
    mkdirSync(bytes(join(root, f, '..')), { recursive: true });
    writeFileSync(bytes(join(root, f)), `content of ${f}\n`);
  }
}

describe('backup controller against real PostgreSQL, sshd and rsync', () => {
  before(async () => {
    primary = await startPostgres({ name: 'bk-primary' });
    await pgQueryOnce(
      { host: '127.0.0.1', port: primary.port, database: 'postgres', user: 'postgres' },
      `
      create role era_replica login replication password '${REPLICA_PWD}';
      create table kept as select g as id, md5(g::text) as v from generate_series(1, 5000) g;`,
    );
    standby = await startPostgres({ name: 'bk-standby', standbyOf: primary });
    [db, storage] = await Promise.all([startSshd(), startSshd()]);
    syncSource = join(tmp('sync-src'), 'SYNC');
    for (const f of ['a.txt', 'common/keep.txt', 'common/fax/page.tif', 'x/some_temp_files/t.tmp']) {
      mkdirSync(join(syncSource, f, '..'), { recursive: true });
      writeFileSync(join(syncSource, f), `content of ${f}\n`);
    }
  });

  after(async () => {
    await Promise.allSettled([standby?.stop(), db?.stop(), storage?.stop()]);
    await primary?.stop();
    for (const c of cleanups) c();
  });

  it('archives the standby, verified, under the expanded path; the :SYNC copy skips its exclusions; the archive restores and answers', async () => {
    const cfg = config({
      sync_folder: { source: syncSource, excluded_paths: ['**/common/fax/*', '**/some_temp_files/*'] },
    });
    const h = await startActor(cfg, MONDAY_NOON);
    assert.equal(h.status().phase, 'idle');
    assert.equal(h.status().next_at, new Date(2026, 2, 2, 20).getTime());
    const report = await h.runNow();
    assert.equal(report.error, null);
    assert.ok(report.ok);
    assert.deepEqual(
      report.steps.map((s) => s.step),
      ['pick-server', 'basebackup', 'verify', 'zip', 'download', 'upload', 'sync'],
    );
    assert.match(report.steps[0]?.detail ?? '', /standby/);
    assert.match(report.steps[0]?.detail ?? '', new RegExp(`:${standby.port}\\)`));
    const dir = join(storage.dir, `dow_${isoWeekday(MONDAY_NOON)}`, '127.0.0.1');
    const archive = join(dir, `pg-127.0.0.1-${primary.port}.zip`);
    assert.ok(existsSync(archive), `no archive at ${archive}`);
    assert.ok((report.steps[5]?.bytes ?? 0) > 1_000_000);
    assert.equal(report.bytes, (report.steps[5]?.bytes ?? 0) + (report.steps[6]?.bytes ?? 0));
    // The sync folder lands beside the archives (its own storage path is the same), exclusions left out.
    const synced = join(storage.dir, `dow_1`, hostname(), 'SYNC');
    assert.ok(existsSync(join(synced, 'a.txt')));
    assert.ok(existsSync(join(synced, 'common/keep.txt')));
    assert.ok(!existsSync(join(synced, 'common/fax/page.tif')));
    assert.ok(!existsSync(join(synced, 'x/some_temp_files/t.tmp')));
    // Saved for a restart: the last result and last success.
    assert.equal(h.saved()?.last_success_at, report.finished_at);
    assert.equal(h.status().last?.ok, true);
    // Nothing left in transit, here or on the database host.
    assert.deepEqual(readdirSync(h.workDir), []);
    assert.ok(report.steps[1]?.detail?.startsWith(`${db.tmp}/mware-backup.`), report.steps[1]?.detail);
    assert.deepEqual(readdirSync(db.tmp), []);

    // The archive passes pg_verifybackup once unzipped, and the restore script starts a server on it.
    const unzipped = join(tmp('unzipped'), 'data');
    await run('unzip', 'unzip', ['-q', archive, '-d', unzipped]);
    assert.ok(existsSync(join(unzipped, 'backup_manifest')));
    await run('pg_verifybackup', requirePgBinary('pg_verifybackup'), ['--quiet', unzipped]);
    const restored = join(tmp('restore'), 'data');
    const port = await freePort();
    await run(
      'restore',
      join(PROJECT_ROOT, 'config/backup-restore.sh'),
      [archive, restored, String(port), '/tmp'],
      {
        uid: owner.uid,
        gid: owner.gid,
        env: { ...process.env, LC_ALL: 'C' },
      },
    );
    try {
      const rows = await pgQueryOnce<{ n: string }>(
        { host: '127.0.0.1', port, database: 'postgres', user: 'postgres' },
        'select count(*)::text as n from kept',
      );
      assert.equal(rows.rows[0]?.n, '5000');
    } finally {
      await run('pg_ctl', requirePgBinary('pg_ctl'), ['-D', restored, '-m', 'fast', 'stop'], {
        uid: owner.uid,
        gid: owner.gid,
      });
    }
    await h.actor.stop?.();
  });

  it('a failing step (a missing pg_basebackup) aborts the run; the next attempt waits 20 minutes on the clock', async () => {
    const cfg = config({}, { pg_basebackup_command: '/nonexistent/bin/pg_basebackup' });
    // In the window: the actor starts the window's run at once.
    const h = await startActor(cfg, MONDAY_NIGHT);
    await until('the first run fails', async () => h.notices.some((n) => n.event === 'run-failed'), {
      ms: 30_000,
    });
    const s = h.status();
    assert.equal(s.phase, 'waiting-retry');
    assert.equal(s.last?.ok, false);
    assert.equal(s.last?.steps.at(-1)?.step, 'basebackup');
    assert.match(s.last?.error ?? '', /basebackup pg-127\.0\.0\.1-\d+: .*(not found|No such file)/);
    assert.equal(s.next_at, MONDAY_NIGHT + RETRY_MS);
    assert.equal(h.saved()?.retry_at, MONDAY_NIGHT + RETRY_MS);
    const failed = h.notices.find((n) => n.event === 'run-failed');
    assert.equal(failed?.level, 'error');
    assert.equal(failed?.topic, 'backup');
    await h.clock.advance(RETRY_MS - 60_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.notices.filter((n) => n.event === 'run-started').length, 1);
    await h.clock.advance(60_000);
    await until(
      'the retry fails',
      async () => h.notices.filter((n) => n.event === 'run-failed').length === 2,
      {
        ms: 30_000,
      },
    );
    assert.equal(h.notices.filter((n) => n.event === 'run-started').length, 2);
    await h.actor.stop?.();
  });

  it('a restarted controller keeps its last result and does not run twice in a served window', async () => {
    const cfg = config();
    const last: BackupRunReport = {
      started_at: MONDAY_NIGHT,
      finished_at: MONDAY_NIGHT + 1000,
      ok: true,
      trigger: 'window',
      steps: [],
      bytes: 1,
      error: null,
    };
    const h = await startActor(cfg, MONDAY_NIGHT + 3600_000, {
      last,
      last_success_at: last.finished_at,
      done_window: MONDAY_NIGHT - 3600_000,
      retry_at: null,
    });
    const s = h.status();
    assert.equal(s.phase, 'idle');
    assert.equal(s.last_success_at, last.finished_at);
    assert.equal(s.next_at, MONDAY_NIGHT - 3600_000 + 24 * 3600_000);
    assert.equal(h.notices.length, 0);
    await h.actor.stop?.();
  });

  it('a wrong storage password fails the upload, cleans up, and refuses a second run-now meanwhile', async () => {
    const h = await startActor(config({ storage_ssh_pwd: 'wrong-storage-pw-1' }), MONDAY_NOON);
    const first = h.runNow();
    await assert.rejects(h.runNow(), { code: 'MW_ERR_BACKUP_RUNNING' });
    const r = await first;
    assert.equal(r.ok, false);
    assert.equal(r.steps.at(-1)?.step, 'upload');
    assert.match(r.error ?? '', /upload .*authentication refused/);
    assert.equal(h.status().phase, 'waiting-retry');
    assert.deepEqual(readdirSync(h.workDir), []);
    assert.ok(r.steps[1]?.detail?.startsWith(`${db.tmp}/mware-backup.`), r.steps[1]?.detail);
    assert.deepEqual(readdirSync(db.tmp), []);
    noSecretIn(captured, ['wrong-storage-pw-1']);
    await h.actor.stop?.();
  });

  it('a wrong SSH password or an unreachable host: a clear state, no crash', async () => {
    const wrong = await startActor(config({}, { ssh_pwd: 'wrong-db-pw-1' }), MONDAY_NOON);
    const r1 = await wrong.runNow();
    assert.equal(r1.ok, false);
    assert.match(r1.error ?? '', /pick-server .*no server is reachable.*authentication refused/);
    const closed = await freePort();
    const gone = await startActor(
      config(
        {},
        { servers: [{ ssh_host: '127.0.0.1', pg_host: '127.0.0.1', ssh_port: closed, pg_port: closed }] },
      ),
      MONDAY_NOON,
    );
    const r2 = await gone.runNow();
    assert.match(r2.error ?? '', /no server is reachable.*(ECONNREFUSED|refused|closed)/);
    assert.equal(gone.status().phase, 'waiting-retry');
    noSecretIn(captured, ['wrong-db-pw-1']);
    await wrong.actor.stop?.();
    await gone.actor.stop?.();
  });

  it('the sync folder with a key authenticates by key, and no secret is in anything captured', async () => {
    const cfg = config({
      pgdb: [],
      sync_folder: { source: syncSource, storage_ssh_key: storage.privateKey, storage_ssh_pwd: undefined },
      storage_ssh_pwd: 'not-the-storage-pw-1',
    });
    const h = await startActor(cfg, MONDAY_NOON);
    const r = await h.runNow();
    assert.equal(r.error, null);
    assert.deepEqual(
      r.steps.map((s) => s.step),
      ['sync'],
    );
    // rsync's output lines are records of their own, with their source and stream (06-services.md, log collection).
    const records = () =>
      captured
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { source?: string; stream?: string; msg?: string; level?: number });
    assert.ok(
      records().some(
        (r) => r.source === 'rsync' && r.stream === 'stdout' && /^Total bytes sent: /.test(r.msg ?? ''),
      ),
      'the --stats lines are logged',
    );
    // A failing rsync: its error lines are logged as warnings, and the run's error names the last of them.
    const missing = join(tmp('gone'), 'NOT-THERE');
    const h2 = await startActor(
      config({
        pgdb: [],
        sync_folder: { source: missing, storage_ssh_key: storage.privateKey, storage_ssh_pwd: undefined },
      }),
      MONDAY_NOON,
    );
    const r2 = await h2.runNow();
    assert.match(r2.error ?? '', /rsync exited with \d+: .*NOT-THERE/);
    const errLines = records().filter((r) => r.source === 'rsync' && r.stream === 'stderr');
    assert.ok(
      errLines.some((r) => /NOT-THERE/.test(r.msg ?? '') && r.level === 40),
      JSON.stringify(errLines),
    );
    noSecretIn(captured, [
      db.password,
      storage.password,
      REPLICA_PWD,
      'not-the-storage-pw-1',
      storage.privateKey.split('\n')[1] ?? 'x',
    ]);
    await h.actor.stop?.();
    await h2.actor.stop?.();
  });
  it('send_mode zip leaves out exactly the files rsync mode leaves out; the archive replaces the last one atomically, by password or key, and unzips into the source tree minus its exclusions', async () => {
    const source = join(tmp('zip-src'), 'ZSYNC');
    writeTree(source, [
      'a.txt',
      'with space.txt',
      'st*ar [x].txt',
      'common/keep.txt',
      'common/fax/page.tif',
      'deep/a/b/common/fax/deep.tif',
      'deep/a/b/common/faxes.txt',
      'fax/top.tif',
      'x/some_temp_files/t.tmp',
      'x/cache.tmp',
      'anchored.txt',
      'sub/anchored.txt',
      'logs/today.log',
      'sub/logs',
      // Names go byte for byte: not UTF-8, a tab, a backslash before `#` (how rsync escapes).
      'caf\xe9.txt',
      'tab\there.txt',
      'lit\\#011x.txt',
    ]);
    mkdirSync(join(source, 'empty'));
    symlinkSync('a.txt', join(source, 'link'));
    symlinkSync('/nonexistent/target', join(source, 'dangling'));
    // `**` crosses folders, a bare name matches at any depth, a leading `/` anchors at the folder's parent, a
    // trailing `/` matches folders only: rsync's meanings, for both modes.
    const excluded_paths = [
      '**/common/fax/*',
      '**/some_temp_files/*',
      '*.tmp',
      '/ZSYNC/anchored.txt',
      'logs/',
    ];
    const sync = (
      mode: 'rsync' | 'zip',
      path: string,
      over: Record<string, unknown> = {},
      top: Record<string, unknown> = {},
    ) =>
      config({
        pgdb: [],
        ...top,
        sync_folder: {
          send_mode: mode,
          source,
          excluded_paths,
          storage_ssh_path: `${storage.dir}/${path}`,
          ...over,
        },
      });
    const byRsync = await runOnce(sync('rsync', 'by-rsync'));
    assert.equal(byRsync.error, null);
    const h = await startActor(sync('zip', 'by-zip/%weekday'), MONDAY_NOON);
    const r = await h.runNow();
    assert.equal(r.error, null);
    assert.deepEqual(
      r.steps.map((s) => [s.step, s.ok]),
      [['sync', true]],
    );
    const dir = join(storage.dir, 'by-zip', String(isoWeekday(MONDAY_NOON)));
    const archive = join(dir, 'ZSYNC.zip');
    assert.equal(r.steps[0]?.bytes, statSync(archive).size);
    assert.equal(r.bytes, statSync(archive).size);
    assert.match(r.steps[0]?.detail ?? '', /by-zip\/1\/ZSYNC\.zip$/);
    // Nothing beside it (no .part), nothing left here.
    assert.deepEqual(readdirSync(dir), ['ZSYNC.zip']);
    assert.deepEqual(readdirSync(h.workDir), []);

    const unzipped = tmp('zip-restore');
    // -^ keeps a control character (the tab) in a name.
    await run('unzip', 'unzip', ['-q', '-^', archive, '-d', unzipped]);
    // Left out: common/fax/page.tif and deep/…/fax/deep.tif (`**/common/fax/*`), t.tmp and cache.tmp, the top
    // anchored.txt (not sub/anchored.txt), logs/ (not the file sub/logs).
    const expected = [
      'a.txt',
      'caf\xe9.txt',
      'common/',
      'common/fax/',
      'common/keep.txt',
      'dangling -> /nonexistent/target',
      'deep/',
      'deep/a/',
      'deep/a/b/',
      'deep/a/b/common/',
      'deep/a/b/common/fax/',
      'deep/a/b/common/faxes.txt',
      'empty/',
      'fax/',
      'fax/top.tif',
      'link -> a.txt',
      'st*ar [x].txt',
      'sub/',
      'sub/anchored.txt',
      'sub/logs',
      'tab\there.txt',
      'lit\\#011x.txt',
      'with space.txt',
      'x/',
      'x/some_temp_files/',
    ].sort();
    assert.deepEqual(treeOf(unzipped), expected);
    assert.deepEqual(treeOf(join(storage.dir, 'by-rsync', 'ZSYNC')), expected);
    assert.equal(
      readFileSync(join(unzipped, 'deep/a/b/common/faxes.txt'), 'utf8'),
      'content of deep/a/b/common/faxes.txt\n',
    );

    // A second run, by key (the top-level password is wrong), replaces the archive with the folder as it is now.
    writeTree(source, ['new.txt']);
    rmSync(join(source, 'a.txt'));
    const byKey = await startActor(
      sync(
        'zip',
        'by-zip/%weekday',
        { storage_ssh_key: storage.privateKey, storage_ssh_pwd: undefined },
        { storage_ssh_pwd: 'not-the-storage-pw-2' },
      ),
      MONDAY_NOON,
    );
    const r2 = await byKey.runNow();
    assert.equal(r2.error, null);
    const again = tmp('zip-restore-2');
    await run('unzip', 'unzip', ['-q', archive, '-d', again]);
    assert.ok(existsSync(join(again, 'new.txt')));
    assert.ok(!existsSync(join(again, 'a.txt')));
    assert.ok(lstatSync(join(again, 'link')).isSymbolicLink());
    assert.deepEqual(readdirSync(dir), ['ZSYNC.zip']);
    noSecretIn(captured, [
      storage.password,
      'not-the-storage-pw-2',
      storage.privateKey.split('\n')[1] ?? 'x',
    ]);
    await h.actor.stop?.();
    await byKey.actor.stop?.();
  });

  it('send_mode zip: a file zip cannot read, a name it cannot take, a missing folder or a refused storage aborts the run with the reason, and the last good archive stays', async () => {
    const source = join(tmp('zip-bad'), 'BAD');
    writeTree(source, ['ok.txt']);
    const cfg = (over: Record<string, unknown> = {}) =>
      config({
        pgdb: [],
        storage_ssh_pwd: undefined,
        sync_folder: {
          send_mode: 'zip',
          source,
          storage_ssh_path: `${storage.dir}/bad`,
          storage_ssh_key: storage.privateKey,
          ...over,
        },
      });
    const good = await runOnce(cfg());
    assert.equal(good.error, null);
    const archive = join(storage.dir, 'bad', 'BAD.zip');
    const before = readFileSync(archive);
    // A file removed once the list is made (as zip starts): zip does not find it and fails (-MM), as rsync's
    // vanished files fail the rsync mode, rather than leaving it out of the backup unnoticed.
    writeTree(source, ['gone.txt']);
    const workDir = tmp('zip-bad-work');
    const lines: string[] = [];
    const r = await runBackup(cfg(), {
      trigger: 'run-now',
      now: () => performance.now(),
      wallNow: () => MONDAY_NOON,
      workDir,
      host: hostname(),
      childOutput: (name) => {
        if (name === 'zip') rmSync(join(source, 'gone.txt'));
        return { line: (stream, text) => lines.push(`${name} ${stream}: ${text}`), end: () => undefined };
      },
    });
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.steps.map((s) => [s.step, s.ok]),
      [['sync', false]],
    );
    assert.match(r.error ?? '', /^sync .*BAD: zip exited with 18: .*File not found .*\(gone\.txt\)/);
    assert.ok(
      lines.some((l) => /^zip stdout: .*gone\.txt/.test(l)),
      lines.join('\n'),
    );
    assert.deepEqual(readdirSync(workDir), []);
    assert.deepEqual(readFileSync(archive), before);

    // zip reads its list one name a line: a name with a line break fails the run, named, through the actor.
    writeFileSync(join(source, 'two\nlines.txt'), 'x');
    const h = await startActor(cfg(), MONDAY_NOON);
    const r2 = await h.runNow();
    assert.match(r2.error ?? '', /^sync .*BAD: cannot zip ".*two\\nlines\.txt": zip takes no line break/);
    assert.equal(h.status().phase, 'waiting-retry');
    assert.equal(h.status().last?.steps.at(-1)?.step, 'sync');
    assert.deepEqual(readdirSync(h.workDir), []);
    assert.deepEqual(readFileSync(archive), before);
    rmSync(join(source, 'two\nlines.txt'));

    const missing = await runOnce(cfg({ source: join(source, 'NOT-THERE') }));
    assert.match(missing.error ?? '', /^sync .*NOT-THERE: rsync exited with \d+: .*NOT-THERE.*No such file/);
    // The listing's error lines are records of the node's log, as rsync's are in the rsync mode.
    const records = captured
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { source?: string; stream?: string; msg?: string });
    assert.ok(
      records.some(
        (l) => l.source === 'rsync' && l.stream === 'stderr' && /BAD\/NOT-THERE/.test(l.msg ?? ''),
      ),
    );
    const file = await runOnce(cfg({ source: join(source, 'ok.txt') }));
    assert.match(file.error ?? '', /ok\.txt is not a folder/);
    // An empty folder (zip refuses to write an archive with no entry) gives one all the same.
    const empty = join(tmp('zip-empty'), 'EMPTY');
    mkdirSync(empty);
    assert.equal((await runOnce(cfg({ source: empty }))).error, null);
    assert.equal(statSync(join(storage.dir, 'bad', 'EMPTY.zip')).size, 22);

    const refused = await runOnce(
      cfg({ storage_ssh_key: undefined, storage_ssh_pwd: 'wrong-zip-storage-pw-1' }),
    );
    assert.match(refused.error ?? '', /^sync .*authentication refused/);
    assert.deepEqual(readFileSync(archive), before);
    assert.deepEqual(readdirSync(join(storage.dir, 'bad')).sort(), ['BAD.zip', 'EMPTY.zip']);
    noSecretIn(captured, ['wrong-zip-storage-pw-1', storage.privateKey.split('\n')[1] ?? 'x']);
    await h.actor.stop?.();
  });
});
