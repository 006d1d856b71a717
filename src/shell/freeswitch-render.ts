import type { z } from 'zod';
import type {
  FsCallsSchema,
  MigrationCallSchema,
  MigrationRecordSchema,
  MigrationSummarySchema,
} from '../api/freeswitch-schemas.ts';
import { OUTCOMES } from '../api/freeswitch-schemas.ts';
import { duration, table, wallTime } from './controller-commands.ts';
import type { Style } from './style.ts';

/**
 * How the shell shows the FreeSWITCH farm (05-freeswitch.md "Shell / API"): the live calls as a table, a migration
 * as a header with counts per outcome and one line per call, the kept migrations as a list. Pure functions of the
 * API's answers, so they are tested without a farm.
 */

type HostCalls = z.infer<typeof FsCallsSchema>['hosts'][number];
export type MigrationRecordView = z.infer<typeof MigrationRecordSchema>;
type MigrationCall = z.infer<typeof MigrationCallSchema>;
type Summary = z.infer<typeof MigrationSummarySchema>;
type Outcome = MigrationCall['outcome'];

const dash = (v: string | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : v);

/** `calls [HOST]`: one row per channel, the hosts whose actor did not answer named with their error. */
export function renderCalls(hosts: HostCalls[], s: Style): string[] {
  const rows = [['HOST', 'UUID', 'DIRECTION', 'STATE', 'CALLER → CALLEE', 'DOMAIN', 'PARTNER', 'CONFERENCE']];
  const lines: string[] = [];
  let channels = 0;
  for (const h of hosts) {
    if (h.channels === null) {
      lines.push(s.red(`${h.host}  not answering: ${h.error?.code ?? '?'}: ${h.error?.message ?? ''}`));
      continue;
    }
    channels += h.channels.length;
    for (const c of h.channels)
      rows.push([
        h.host,
        c.uuid,
        dash(c.direction),
        c.answered ? c.state : `${c.state} (ringing)`,
        `${dash(c.caller)} → ${dash(c.callee)}`,
        dash(c.domain),
        dash(c.partner),
        dash(c.conference),
      ]);
  }
  const answering = hosts.filter((h) => h.channels !== null).length;
  return [
    ...(rows.length > 1 ? table(rows) : []),
    ...lines,
    s.dim(
      `${channels} channel${channels === 1 ? '' : 's'} on ${answering} host${answering === 1 ? '' : 's'}`,
    ),
  ];
}

/** Calls per outcome, every outcome named (a zero says as much as a count). */
export function outcomeCounts(r: MigrationRecordView): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const c of r.calls) counts[c.outcome]++;
  return counts;
}

export const isFinished = (phase: string): boolean => phase === 'done' || phase === 'failed';

function outcomeStyle(o: Outcome, s: Style, text: string): string {
  switch (o) {
    case 'moved':
      return s.green(text);
    case 'lost':
    case 'failed':
      return s.red(text);
    case 'planned':
    case 'handed':
    case 'recreated':
      return s.yellow(text);
    default: {
      const never: never = o;
      return never;
    }
  }
}

const phaseStyle = (phase: string, s: Style): string =>
  phase === 'done' ? s.green(phase) : phase === 'failed' ? s.red(phase) : s.yellow(phase);

/** The header of a migration: what, where to, its phase, its age, and the calls per outcome. */
export function migrationHeader(r: MigrationRecordView, s: Style, now: number = Date.now()): string[] {
  const to = r.allowed.length > 0 ? r.allowed.join(',') : 'any';
  const took = (r.finished_at ?? now) - r.started_at;
  const reason = r.reason ? `  ${s.dim(r.reason)}` : '';
  const counts = outcomeCounts(r);
  const tally = OUTCOMES.map((o) => `${o} ${counts[o] > 0 ? outcomeStyle(o, s, String(counts[o])) : '0'}`);
  const timing = [
    r.recreate_ms === null ? null : `re-created in ${duration(r.recreate_ms)}`,
    r.recover_ms === null ? null : `fsctl recover ${duration(r.recover_ms)}`,
    r.stale_removed > 0 ? `${r.stale_removed} stale rows removed` : null,
  ].filter((x): x is string => x !== null);
  return [
    `${s.bold(`${r.kind} ${r.source} → ${to}`)}  ${r.id}  phase ${phaseStyle(r.phase, s)}  epoch ${r.epoch}  ${duration(took)}${reason}`,
    `  ${r.calls.length} call${r.calls.length === 1 ? '' : 's'}: ${tally.join('  ')}${timing.length > 0 ? `  (${timing.join(', ')})` : ''}`,
    ...r.recoveries.map(
      (v) =>
        `  ${v.target}: ${v.sent ? dash(v.reply) : 'fsctl recover not sent yet'}${v.ms === null ? '' : ` in ${duration(v.ms)}`}`,
    ),
  ];
}

/** Calls still on their way first, then the ones that went wrong, then the moved ones (a live view shows the top). */
const RANK: Record<Outcome, number> = { planned: 0, handed: 0, recreated: 0, lost: 1, failed: 1, moved: 2 };

/**
 * One line per call: id, legs re-created of all, target, outcome, cause (and with `full`, numbers and the leg
 * UUIDs). At most `maxCalls` lines, the rest counted in a last line.
 */
export function migrationCalls(
  r: MigrationRecordView,
  s: Style,
  o: { maxCalls?: number; full?: boolean } = {},
): string[] {
  if (r.calls.length === 0) return [s.dim('  no calls')];
  const max = o.maxCalls ?? Infinity;
  const calls =
    max < r.calls.length ? [...r.calls].sort((a, b) => RANK[a.outcome] - RANK[b.outcome]) : r.calls;
  const head = ['  CALL', 'LEGS', 'TARGET', 'OUTCOME', 'CAUSE'];
  if (o.full) head.push('CALLER → CALLEE', 'DOMAIN', 'CONFERENCE', 'LEG UUIDS');
  const rows = [head];
  for (const c of calls.slice(0, max)) {
    const row = [
      `  ${c.id}`,
      `${c.recreated}/${c.legs.length}${c.bridged ? ' bridged' : ''}`,
      dash(c.target),
      c.outcome,
      dash(c.cause),
    ];
    if (o.full)
      row.push(`${dash(c.caller)} → ${dash(c.callee)}`, dash(c.domain), dash(c.conference), c.legs.join(','));
    rows.push(row);
  }
  // Colour after padding, so escape codes do not count as width.
  const lines = table(rows).map((line, i) => {
    const c = calls[i - 1];
    return c ? line.replace(` ${c.outcome}`, ` ${outcomeStyle(c.outcome, s, c.outcome)}`) : line;
  });
  if (calls.length > max) lines.push(s.dim(`  … ${calls.length - max} more calls`));
  return lines;
}

/** `migration ID`: the whole record, call by call. */
export function renderMigration(r: MigrationRecordView, s: Style, now: number = Date.now()): string[] {
  const lines = migrationHeader(r, s, now);
  lines.push(
    `  started ${wallTime(r.started_at)}${r.finished_at === null ? '' : `  finished ${wallTime(r.finished_at)}`}`,
  );
  if (r.failed_file) lines.push(`  metadata of failed and lost calls kept in ${r.failed_file}`);
  lines.push(...migrationCalls(r, s, { full: true }));
  return lines;
}

/** `migrations`: the one in progress, then the finished ones newest first. */
export function renderMigrations(
  active: Summary | null,
  recent: Summary[],
  s: Style,
  now: number = Date.now(),
): string[] {
  const items = [...(active ? [active] : []), ...[...recent].reverse()];
  if (items.length === 0) return ['no migration yet'];
  const rows = [
    ['ID', 'KIND', 'SOURCE', 'PHASE', 'STARTED', 'TOOK', 'CALLS', 'MOVED', 'LOST', 'FAILED', 'RE-CREATED IN'],
  ];
  for (const m of items)
    rows.push([
      m.id,
      m.kind,
      m.source,
      m === active ? `${m.phase} (running)` : m.phase,
      wallTime(m.started_at),
      duration((m.finished_at ?? now) - m.started_at),
      String(m.calls),
      String(m.moved),
      String(m.lost),
      String(m.failed),
      m.recreate_ms === null ? '-' : duration(m.recreate_ms),
    ]);
  return table(rows).map((l, i) => {
    const m = items[i - 1];
    return m && (m.phase === 'failed' || m.lost > 0 || m.failed > 0) ? s.red(l) : l;
  });
}
