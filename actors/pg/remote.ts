import type { SshPool } from '../../src/ssh/pool.ts';
import type { ExecResult } from '../../src/ssh/connection.ts';
import { SshCommandFailed } from '../../src/ssh/errors.ts';
import { PgActionFailed } from './errors.ts';
import type { PgServerSettings } from './settings.ts';

/**
 * What the controller does on a database host over SSH, with PostgreSQL's own tools (`pg_ctl`, `pg_rewind`,
 * `pg_basebackup`, `pg_controldata`). Passwords reach a remote tool on its stdin (read into `PGPASSWORD` by the
 * remote shell), never on a command line, where `ps` would show them and an error could repeat them.
 */

/** `pg_ctl status`: 0 running, 3 not running, 4 no accessible data directory (pg_ctl.c, do_status). */
export type PostmasterState = 'running' | 'stopped' | 'no-data';

export interface RewindResult {
  /** False when pg_rewind found the target already on the source's history ("no rewind required"). */
  rewound: boolean;
}

/** Deadlines of the remote steps: long ones copy data, short ones only ask. */
const ASK_MS = 3_000;
const STOP_MS = 60_000;
const START_MS = 120_000;
const COPY_MS = 60 * 60_000;

export class PgHost {
  constructor(
    private readonly ssh: SshPool,
    readonly s: PgServerSettings,
  ) {}

  /** Whether the postmaster runs: an answer from the host itself, not an inference from a refused port. */
  async postmaster(timeoutMs = ASK_MS): Promise<PostmasterState> {
    // A postmaster killed but not yet reaped by its parent is a zombie that kill(pid, 0) still finds, so pg_ctl
    // calls it running: on Linux, /proc tells a zombie apart.
    const pidFile = q(`${this.s.dataFolder}/postmaster.pid`);
    const r = await this.ssh.exec(
      this.s.ssh,
      `${q(this.s.pgCtl)} -D ${q(this.s.configFolder)} status >/dev/null 2>&1; rc=$?; ` +
        `if [ $rc -eq 0 ]; then pid=$(head -n 1 ${pidFile} 2>/dev/null); ` +
        `if [ -n "$pid" ] && grep -q '^State:[[:space:]]*Z' /proc/$pid/status 2>/dev/null; then rc=3; fi; fi; ` +
        // Not running and nothing to run: a data folder without a cluster needs a base backup.
        // (pg_ctl itself may fail on a missing data folder, before it can say so.)
        `if [ $rc -ne 0 ] && [ -x ${q(this.s.pgCtl)} ] && [ ! -f ${q(`${this.s.dataFolder}/PG_VERSION`)} ]; then rc=4; fi; exit $rc`,
      { timeoutMs },
    );
    if (r.code === 0) return 'running';
    if (r.code === 3) return 'stopped';
    if (r.code === 4) return 'no-data';
    throw this.failed('status', r);
  }

  /** Which of the tools and folders the controller needs are missing on the host, in plain words. */
  async missingTools(): Promise<string[]> {
    const checks: [string, string][] = [
      [`test -x ${q(this.s.pgCtl)}`, `pg_ctl_command ${this.s.pgCtl} is not an executable on the host`],
      [
        `test -x ${q(this.s.pgBasebackup)}`,
        `pg_basebackup_command ${this.s.pgBasebackup} is not an executable on the host`,
      ],
      [
        `test -x ${q(this.s.pgRewind)}`,
        `pg_rewind (${this.s.pgRewind}) is missing: a returning primary can only rejoin by pg_basebackup`,
      ],
      [`test -d ${q(this.s.configFolder)}`, `pg_config_folder ${this.s.configFolder} does not exist`],
    ];
    const script = checks.map(([test], i) => `${test} || echo ${i}`).join('; ');
    const r = await this.ssh.exec(this.s.ssh, script, { timeoutMs: ASK_MS });
    return r.stdout
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map((i) => checks[Number(i)]?.[1] ?? '');
  }

  async start(): Promise<void> {
    const log = this.s.logFile ?? '/dev/null';
    // -l: the server's output must not stay attached to the SSH channel, or the command never ends. When it fails,
    // pg_ctl only says "Examine the log output": the log's last lines go to stderr, where the error report reads.
    await this.run(
      'start',
      `${q(this.s.pgCtl)} -D ${q(this.s.configFolder)} -l ${q(log)} -w -t ${START_MS / 1000 - 5} start || ` +
        `{ rc=$?; tail -n 3 ${q(log)} >&2 2>/dev/null; exit $rc; }`,
      START_MS,
    );
  }

  /** Stops the server (`immediate` to fence: at once, no checkpoint); a server already down counts as stopped. */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    const ctl = `${q(this.s.pgCtl)} -D ${q(this.s.configFolder)}`;
    await this.run(
      `stop-${mode}`,
      `${ctl} -m ${mode} -w -t ${STOP_MS / 1000 - 5} stop; rc=$?; ` +
        `if [ $rc -ne 0 ]; then ${ctl} status >/dev/null 2>&1; s=$?; [ $s -eq 3 ] || [ $s -eq 4 ] && exit 0; fi; exit $rc`,
      STOP_MS,
    );
  }

  /** `pg_ctl promote` (signals the postmaster at once): the fallback when `pg_promote()` cannot be called. */
  async promote(): Promise<void> {
    await this.run('promote', `${q(this.s.pgCtl)} -D ${q(this.s.configFolder)} -w -t 60 promote`, 65_000);
  }

  /**
   * The seed's trigger file: PostgreSQL 15 looks for it only every `wal_retrieve_retry_interval` (5 s by default)
   * and PostgreSQL 16 removed it, so it is the last resort.
   */
  async touchSignalFile(): Promise<boolean> {
    if (this.s.signalFile === undefined) return false;
    await this.run('trigger-file', `touch ${q(this.s.signalFile)}`, ASK_MS);
    return true;
  }

  /** `Latest checkpoint location` of a stopped server: where a clean shutdown ended its WAL. */
  async checkpointLsn(): Promise<string | null> {
    const r = await this.run('controldata', `${q(this.s.pgControldata)} ${q(this.s.dataFolder)}`, ASK_MS * 2);
    return /^Latest checkpoint location:\s+(\S+)$/m.exec(r.stdout)?.[1] ?? null;
  }

  /**
   * Rewinds this (stopped) server's data folder onto `source`'s history. pg_rewind 13+ first finishes crash
   * recovery of a target that was not shut down cleanly (a killed postmaster), in single-user mode.
   */
  async rewind(source: PgServerSettings): Promise<RewindResult> {
    const src = conninfo({
      host: source.db.host,
      port: String(source.db.port),
      user: source.db.user,
      dbname: source.db.database,
    });
    const r = await this.run(
      'rewind',
      `${q(this.s.pgRewind)} --target-pgdata=${q(this.s.dataFolder)} --source-server=${q(src)}` +
        // With postgresql.conf outside the data folder (Debian's layout), the crash recovery pg_rewind runs first
        // must read that file, or it records the data folder's stale copy (wal_log_hints off, say) and fails.
        (this.s.configFolder !== this.s.dataFolder
          ? ` --config-file=${q(`${this.s.configFolder}/postgresql.conf`)}`
          : ''),
      COPY_MS,
      source.db.password,
    );
    return { rewound: !/no rewind required/i.test(`${r.stdout}\n${r.stderr}`) };
  }

  /**
   * Replaces the data folder with a fresh base backup of `source`, keeping the old folder aside in
   * `pg_backup_folder` (beside the data folder when none is set).
   */
  async rebuild(source: PgServerSettings, stamp: string): Promise<string> {
    const data = this.s.dataFolder;
    const aside = `${this.s.backupFolder ?? `${data}.replaced`}/${basename(data)}-${stamp}`;
    const bb =
      `${q(this.s.pgBasebackup)} -h ${q(source.db.host)} -p ${source.db.port} -U ${q(source.replica.user)} ` +
      `-D ${q(data)} -X stream -c fast --no-password`;
    await this.run(
      'basebackup',
      `set -e; mkdir -p ${q(parent(aside))}; if [ -e ${q(data)} ]; then mv ${q(data)} ${q(aside)}; fi; ${bb}; chmod 700 ${q(data)}`,
      COPY_MS,
      source.replica.password,
    );
    return aside;
  }

  /** Makes the (stopped) server a standby of `primary`: `standby.signal` and `primary_conninfo`. */
  async followPrimary(primary: PgServerSettings): Promise<void> {
    const info = conninfo({
      host: primary.db.host,
      port: String(primary.db.port),
      user: primary.replica.user,
      ...(primary.replica.password !== undefined && { password: primary.replica.password }),
      application_name: this.s.name,
    });
    // The line goes on stdin: it may hold a password.
    const line = `primary_conninfo = '${info.replace(/'/g, "''")}'\n`;
    const auto = q(`${this.s.dataFolder}/postgresql.auto.conf`);
    await this.ssh.execOk(
      this.s.ssh,
      `touch ${auto} && sed -i '/^primary_conninfo[[:space:]]*=/d' ${auto} && cat >> ${auto} && ` +
        `touch ${q(`${this.s.dataFolder}/standby.signal`)}`,
      { timeoutMs: ASK_MS, stdin: line },
    );
  }

  /** Runs a step; a non-zero exit becomes a {@link PgActionFailed} naming the step and the tool's last words. */
  private async run(
    step: string,
    command: string,
    timeoutMs: number,
    password?: string,
  ): Promise<ExecResult> {
    const withPassword =
      password !== undefined ? `IFS= read -r PGPASSWORD; export PGPASSWORD; ${command}` : command;
    try {
      return await this.ssh.execOk(this.s.ssh, withPassword, {
        timeoutMs,
        ...(password !== undefined && { stdin: `${password}\n` }),
      });
    } catch (err) {
      if (err instanceof SshCommandFailed)
        throw new PgActionFailed(`${step} on ${this.s.name} failed: ${lastWords(err)}`, {
          details: { step, server: this.s.name },
          cause: err,
        });
      throw err;
    }
  }

  private failed(step: string, r: ExecResult): PgActionFailed {
    return new PgActionFailed(
      `${step} on ${this.s.name} exited with ${r.code}: ${r.stderr.trim().slice(-300)}`,
      {
        details: { step, server: this.s.name },
      },
    );
  }
}

/** The tool's own error line (PostgreSQL's tools log progress on stderr too), else the end of stderr. */
function lastWords(err: SshCommandFailed): string {
  const stderr = typeof err.details?.stderr === 'string' ? err.details.stderr : '';
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  return (
    lines.filter((l) => /\b(error|fatal|panic):/i.test(l)).at(-1) ??
    lines.at(-1) ??
    err.message
  ).trim();
}

/** A word for a POSIX shell: single-quoted, its own single quotes spliced in. */
export function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A libpq connection string (`key='value' …`, backslashes and quotes escaped as libpq reads them). */
export function conninfo(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}='${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}

function basename(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? 'data';
}

function parent(path: string): string {
  return path.replace(/\/[^/]*$/, '') || '/';
}
