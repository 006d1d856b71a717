import type { RunRecord } from '../../actors/svctasks/ledger.ts';
import type { TaskView } from '../../actors/svctasks/protocol.ts';
import { BadRequest } from '../api/errors.ts';
import type { ShellContext } from './command.ts';
import { registerShellCommand } from './command.ts';
import { duration, table, wallTime } from './controller-commands.ts';
import type { Style } from './style.ts';

/**
 * `tasks`: a domain's service tasks (06-services.md) — the list with each task's next firing and last run, one task
 * with its last runs (outcome, duration, output tail), and a run now.
 */

const USAGE = 'tasks DOMAIN | tasks DOMAIN ID | tasks run DOMAIN ID';

export function renderTasks(tasks: TaskView[], s: Style): string[] {
  if (!tasks.length) return [s.dim('no tasks')];
  return table([
    ['ID', 'SITEMODE', 'EVERY', 'SCHEDULE', 'NEXT', 'LAST', 'RUNNING', 'SOURCE'],
    ...tasks.map((t) => [
      t.isenabled ? t.id : s.dim(`${t.id} (disabled)`),
      t.sitemode + (t.sites.length ? `:${t.sites.join(',')}` : ''),
      t.isregular ? duration(t.intervalsec * 1000) : 'once',
      t.schedule,
      t.next_at === null ? '-' : wallTime(t.next_at),
      t.last_run ? status(t.last_run, s) : '-',
      t.running.join(',') || '-',
      t.source,
    ]),
  ]);
}

function status(r: RunRecord, s: Style): string {
  const text = `${r.status}${r.site ? `@${r.site}` : ''}`;
  return r.status === 'ok' ? s.green(text) : r.status === 'skipped-overlap' ? s.yellow(text) : s.red(text);
}

export function renderRuns(runs: RunRecord[], s: Style): string[] {
  if (!runs.length) return [s.dim('no runs yet')];
  const lines = table([
    ['FIRING', 'SITE', 'TRIGGER', 'STATUS', 'TOOK', 'NODE/EPOCH', 'ERROR'],
    ...runs.map((r) => [
      wallTime(r.firing_at),
      r.site ?? '-',
      r.trigger,
      status(r, s) + (r.count ? ` ×${r.count}` : ''),
      r.duration_ms === null ? '-' : duration(r.duration_ms),
      `${r.node}/${r.epoch}`,
      r.error ?? '',
    ]),
  ]);
  const last = runs.at(-1);
  if (last?.output) lines.push(s.dim('last output:'), ...last.output.trimEnd().split('\n').slice(-10));
  return lines;
}

async function show(ctx: ShellContext, domain: string, id: string | undefined): Promise<void> {
  if (id === undefined) {
    for (const l of renderTasks((await ctx.client.tasks(domain)).tasks, ctx.style)) ctx.out(l);
    return;
  }
  const t = await ctx.client.task(domain, id);
  ctx.out(
    `${t.id} ${t.name ? `(${t.name}) ` : ''}${t.sitemode} every ${duration(t.intervalsec * 1000)} ${t.schedule}; ` +
      `next ${t.next_at === null ? '-' : wallTime(t.next_at)}; code ${t.code_bytes} bytes; ${t.source}`,
  );
  for (const l of renderRuns(t.runs, ctx.style)) ctx.out(l);
}

export function registerTaskCommands(): void {
  registerShellCommand({
    name: 'tasks',
    usage: USAGE,
    summary: 'service tasks of a domain: next firing, last run; one task with its runs; run one now',
    complete: async (_argv, position) => (position === 0 ? ['run'] : []),
    run: async (argv, _rest, ctx) => {
      const [first, second, third] = argv;
      if (first === undefined) throw new BadRequest(`usage: ${USAGE}`);
      if (first === 'run') {
        if (second === undefined || third === undefined) throw new BadRequest(`usage: ${USAGE}`);
        ctx.out(ctx.style.dim('running now (answers when the runs have ended)…'));
        const { runs } = await ctx.client.runTaskNow(second, third, { signal: ctx.signal });
        for (const l of renderRuns(runs, ctx.style)) ctx.out(l);
        return;
      }
      await show(ctx, first, second);
    },
  });
}
