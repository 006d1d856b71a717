import type { z } from 'zod';
import type {
  BackupRunReportSchema,
  BackupStatusSchema,
  PgClusterList,
  PgFailoverRecordSchema,
} from '../api/controller-schemas.ts';
import { BadRequest } from '../api/errors.ts';
import type { MwareClient } from '../client/client.ts';
import type { ShellContext } from './command.ts';
import { registerShellCommand } from './command.ts';
import type { Style } from './style.ts';

/**
 * The shell's commands for the group's controllers (03-interfaces.md "Inspection shell"): `pg` (the replicated
 * clusters, their history, a planned switchover) and `backup` (the backup controller, a run now). Both read the
 * API's facades, so they work against any node of the cluster (a passive one forwards).
 */

type PgEntry = z.infer<typeof PgClusterList>['clusters'][number];
type PgView = NonNullable<PgEntry['status']>;
type FailoverRecord = z.infer<typeof PgFailoverRecordSchema>;
type BackupStatus = z.infer<typeof BackupStatusSchema>;
type BackupRun = z.infer<typeof BackupRunReportSchema>;

/** Wall-clock time as UTC `YYYY-MM-DD HH:MM:SS` (the same on every operator's terminal). */
export function wallTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u] as string}`;
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Columns padded to their widest cell (the last one is not padded). */
export function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

const phaseStyle = (phase: string, s: Style) =>
  phase === 'watching'
    ? s.green(phase)
    : phase === 'isolated' || phase === 'no-primary'
      ? s.red(phase)
      : s.yellow(phase);

function failoverLine(f: FailoverRecord): string {
  const rejoin = f.rejoin
    ? `; ${f.from ?? 'the old primary'} rejoined by ${f.rejoin.method} ${f.rejoin.ok ? 'in' : 'FAILED after'} ${duration(f.rejoin.ms)}`
    : '';
  return `${wallTime(f.at)}  ${f.kind}  ${f.from ?? '-'} → ${f.to} in ${duration(f.ms)} (epoch ${f.epoch})${rejoin}`;
}

/** One cluster: a heading, its servers with role and lag, its last failover. */
export function renderPgCluster(c: PgView, s: Style): string[] {
  const reason = c.reason ? `  ${s.dim(c.reason)}` : '';
  const lines = [
    `${s.bold(c.key)}  primary ${c.primary ?? s.red('none')}  phase ${phaseStyle(c.phase, s)}  epoch ${c.epoch ?? '-'}${reason}`,
  ];
  const rows = [['  SERVER', 'ROLE', 'LAG BYTES', 'LAG S', 'NOTE']];
  for (const v of c.servers) {
    const note = v.error ?? (v.problems.length > 0 ? v.problems.join('; ') : '');
    rows.push([
      `  ${v.name}`,
      v.role,
      v.lag_bytes === null ? '-' : String(v.lag_bytes),
      v.lag_seconds === null ? '-' : v.lag_seconds.toFixed(3),
      note,
    ]);
  }
  lines.push(...table(rows));
  if (c.referee) {
    const r =
      c.referee.reachable === null
        ? 'not checked yet'
        : c.referee.reachable
          ? 'reachable'
          : s.red('unreachable');
    lines.push(`  referee ${c.referee.address} ${r}`);
  }
  const last = c.history.at(-1);
  lines.push(`  last failover: ${last ? failoverLine(last) : 'none'}`);
  return lines;
}

export function renderPg(clusters: PgEntry[], s: Style): string[] {
  const lines: string[] = [];
  for (const c of clusters) {
    if (lines.length > 0) lines.push('');
    if (c.status) lines.push(...renderPgCluster(c.status, s));
    else
      lines.push(
        `${s.bold(c.key)}  ${s.red(`not answering: ${c.error?.code ?? '?'}: ${c.error?.message ?? ''}`)}`,
      );
  }
  return lines;
}

export function renderPgHistory(c: PgView): string[] {
  if (c.history.length === 0) return [`${c.key}: no change of primary yet`];
  return [...c.history].reverse().map(failoverLine);
}

function runLines(r: BackupRun, s: Style): string[] {
  const head = r.ok ? s.green('ok') : s.red(`failed: ${r.error ?? 'unknown error'}`);
  const lines = [
    `${head}  ${r.trigger}  started ${wallTime(r.started_at)}  took ${duration(r.finished_at - r.started_at)}  sent ${bytes(r.bytes)}`,
  ];
  const rows = r.steps.map((st) => [
    `    ${st.step}`,
    st.target,
    st.ok ? 'ok' : 'FAILED',
    duration(st.ms),
    st.bytes === undefined ? '' : bytes(st.bytes),
    st.detail ?? '',
  ]);
  if (rows.length > 0) lines.push(...table(rows));
  return lines;
}

export function renderBackup(b: BackupStatus, s: Style, now: number = Date.now()): string[] {
  const [from, to] = b.hours_interval;
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  const lines = [
    `backup  phase ${b.phase === 'idle' ? s.green(b.phase) : b.phase === 'running' ? s.yellow(b.phase) : s.dim(b.phase)}  window ${hh(from)}–${hh(to)} on weekdays ${b.weekdays.join(',')}`,
  ];
  if (b.running_since !== null)
    lines.push(`  running since ${wallTime(b.running_since)} (${duration(now - b.running_since)})`);
  lines.push(
    `  next attempt   ${b.next_at === null ? '-' : `${wallTime(b.next_at)} (in ${duration(Math.max(0, b.next_at - now))})`}`,
  );
  lines.push(
    `  last success   ${b.last_success_at === null ? s.red('never') : `${wallTime(b.last_success_at)} (${duration(now - b.last_success_at)} ago)`}`,
  );
  if (b.last) {
    const [first, ...rest] = runLines(b.last, s);
    lines.push(`  last run       ${first ?? ''}`, ...rest);
  } else lines.push('  last run       none');
  return lines;
}

async function pgView(client: MwareClient, key: string | undefined, usage: string): Promise<PgView> {
  if (key === undefined) throw new BadRequest(`usage: ${usage}`);
  return client.pgCluster(key);
}

async function clusterKeys(client: MwareClient): Promise<PgEntry[]> {
  return (await client.pg()).clusters;
}

export function registerControllerCommands(): void {
  registerShellCommand({
    name: 'pg',
    usage: 'pg [history KEY | switchover KEY SERVER]',
    summary:
      'replicated PostgreSQL clusters: primary, standbys and lag, phase; failover history; a planned switchover',
    complete: async (argv, position, client) => {
      if (position === 0) return ['history', 'switchover'];
      const entries = await clusterKeys(client);
      if (position === 1 && (argv[0] === 'history' || argv[0] === 'switchover'))
        return entries.map((e) => e.key);
      if (position === 2 && argv[0] === 'switchover')
        return entries.find((e) => e.key === argv[1])?.status?.servers.map((v) => v.name) ?? [];
      return [];
    },
    run: async ([sub, key, server, ...extra], _rest, ctx: ShellContext) => {
      if (sub === undefined) {
        const lines = renderPg(await clusterKeys(ctx.client), ctx.style);
        for (const l of lines) ctx.out(l);
        return;
      }
      if (sub === 'history') {
        for (const l of renderPgHistory(await pgView(ctx.client, key, 'pg history KEY'))) ctx.out(l);
        return;
      }
      if (sub === 'switchover') {
        if (key === undefined || server === undefined || extra.length > 0)
          throw new BadRequest('usage: pg switchover KEY SERVER');
        ctx.out(ctx.style.dim(`switching ${key} over to ${server}…`));
        const r = await ctx.client.pgSwitchover(key, { server }, { signal: ctx.signal });
        ctx.out(
          `${r.to} is the primary of ${key} (was ${r.from}), in ${duration(r.ms)}; ${r.from} rejoined by ${r.rejoin}`,
        );
        return;
      }
      throw new BadRequest(`unknown pg subcommand "${sub}" (pg, pg history KEY, pg switchover KEY SERVER)`);
    },
  });

  registerShellCommand({
    name: 'backup',
    usage: 'backup [run-now]',
    summary:
      'the backup controller: phase, last result with size and duration, next window, last success; run-now',
    complete: async (_argv, position) => (position === 0 ? ['run-now'] : []),
    run: async ([sub], _rest, ctx) => {
      if (sub === undefined) {
        for (const l of renderBackup(await ctx.client.backup(), ctx.style)) ctx.out(l);
        return;
      }
      if (sub === 'run-now') {
        ctx.out(ctx.style.dim('backing up now (answers when the run has ended)…'));
        for (const l of runLines(await ctx.client.backupRunNow({ signal: ctx.signal }), ctx.style))
          ctx.out(l);
        return;
      }
      throw new BadRequest(`unknown backup subcommand "${sub}" (backup, backup run-now)`);
    },
  });
}
