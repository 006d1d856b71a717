import { FsUnknownMigration } from '../freeswitch/errors.ts';
import type { ShellContext } from './command.ts';
import type { MigrationRecordView } from './freeswitch-render.ts';
import { isFinished, migrationCalls, migrationHeader, outcomeCounts } from './freeswitch-render.ts';

/**
 * The live per-call progress view of `migrate` and `drain`: the migration's record is read every {@link POLL_MS} and
 * shown as counts per outcome and one line per call, until its phase is `done` or `failed`. On a terminal the view is
 * redrawn in place (as many calls as fit); piped, each change is printed once, in order (a log a script can keep).
 * Ctrl-C stops the watching, never the migration: it runs on the group's active instance, not in the shell.
 */

export const POLL_MS = 200;
/** Polls may fail for a while (the group changes its active instance mid-migration); this long, then give up. */
const GIVE_UP_MS = 30_000;
const QUEUED = 'queued:';

export interface WatchStart {
  /** What migrate/drain answered: the id, or `queued:<host>` behind the migration in progress. */
  id: string;
  host: string;
  /** Wall-clock ms the request was sent (a queued migration is the first of its host started since). */
  since: number;
}

/** Follows the migration to its end; its last record, or undefined when the user stopped watching. */
export async function watchMigration(
  ctx: ShellContext,
  start: WatchStart,
): Promise<MigrationRecordView | undefined> {
  const id = start.id.startsWith(QUEUED) ? await whenStarted(ctx, start) : start.id;
  if (id === undefined) return stopped(ctx, start.id);
  const view = ctx.terminalRows ? new TerminalView(ctx) : new LogView(ctx);
  let failingSince: number | undefined;
  for (;;) {
    let r: MigrationRecordView;
    try {
      r = await ctx.client.freeswitchMigration(id, { signal: ctx.signal, timeoutMs: 5_000 });
      failingSince = undefined;
    } catch (err) {
      if (ctx.signal.aborted) return view.abandon(id);
      // Finished records are kept in the migrator's memory; one restarted since keeps only the summary.
      if (err instanceof FsUnknownMigration) return view.forgotten(id);
      failingSince ??= Date.now();
      if (Date.now() - failingSince > GIVE_UP_MS) throw err;
      view.trouble(err);
      await pause(POLL_MS, ctx.signal);
      continue;
    }
    if (isFinished(r.phase)) {
      view.final(r);
      return r;
    }
    view.show(r);
    await pause(POLL_MS, ctx.signal);
    if (ctx.signal.aborted) return view.abandon(id);
  }
}

/** A queued request: waits until the migrator starts a migration of the host (the one in progress ends first). */
async function whenStarted(ctx: ShellContext, start: WatchStart): Promise<string | undefined> {
  let said = false;
  while (!ctx.signal.aborted) {
    const list = await ctx.client.freeswitchMigrations({ signal: ctx.signal }).catch((err: unknown) => {
      if (ctx.signal.aborted) return undefined;
      throw err;
    });
    if (!list) break;
    const mine = [list.active, ...[...list.recent].reverse()].find(
      (m) => m && m.source === start.host && m.started_at >= start.since,
    );
    if (mine) return mine.id;
    if (!said && list.active)
      ctx.out(ctx.style.dim(`queued behind ${list.active.kind} ${list.active.source} (${list.active.id})…`));
    said = true;
    await pause(POLL_MS, ctx.signal);
  }
  return undefined;
}

function stopped(ctx: ShellContext, id: string): undefined {
  ctx.out(ctx.style.dim(`stopped watching; migration ${id} goes on (migrations, migration ID show it)`));
  return undefined;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const errorText = (err: unknown): string =>
  err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);

interface View {
  show(r: MigrationRecordView): void;
  final(r: MigrationRecordView): void;
  trouble(err: unknown): void;
  abandon(id: string): undefined;
  forgotten(id: string): undefined;
}

/** On a terminal: the frame is redrawn in place, as many calls as fit; the final one in full. */
class TerminalView implements View {
  private drawn = 0;
  private problem: string | null = null;
  constructor(private readonly ctx: ShellContext) {}

  show(r: MigrationRecordView): void {
    const header = migrationHeader(r, this.ctx.style);
    if (this.problem) header.push(this.ctx.style.red(`  (no answer: ${this.problem})`));
    const room = Math.max(3, (this.ctx.terminalRows?.() ?? 24) - header.length - 3);
    this.draw([...header, ...migrationCalls(r, this.ctx.style, { maxCalls: room })]);
    this.problem = null;
  }

  final(r: MigrationRecordView): void {
    this.draw([...migrationHeader(r, this.ctx.style), ...migrationCalls(r, this.ctx.style)]);
    this.drawn = 0;
  }

  trouble(err: unknown): void {
    this.problem = errorText(err);
  }

  abandon(id: string): undefined {
    return stopped(this.ctx, id);
  }

  forgotten(id: string): undefined {
    this.ctx.out(
      this.ctx.style.yellow(`migration ${id} is no longer kept in full; migrations lists its result`),
    );
    return undefined;
  }

  private draw(lines: string[]): void {
    // Back to the first line of the last frame, clear to the end of the screen, write the new frame.
    const back = this.drawn > 0 ? `\u001b[${this.drawn}F\u001b[J` : '';
    lines.forEach((l, i) => this.ctx.out(i === 0 ? back + l : l));
    this.drawn = lines.length;
  }
}

/** Piped: the header when the phase or the counts change, a line per call when its target or outcome changes. */
class LogView implements View {
  private lastHeader = '';
  private readonly calls = new Map<string, string>();
  private lastProblem = '';
  constructor(private readonly ctx: ShellContext) {}

  show(r: MigrationRecordView): void {
    const counts = outcomeCounts(r);
    const key = JSON.stringify([r.phase, r.reason, counts, r.recoveries]);
    if (key !== this.lastHeader) {
      this.lastHeader = key;
      for (const l of migrationHeader(r, this.ctx.style)) this.ctx.out(l);
    }
    const changed = r.calls.filter((c) => {
      const k = JSON.stringify([c.target, c.outcome, c.cause, c.recreated]);
      if (this.calls.get(c.id) === k) return false;
      this.calls.set(c.id, k);
      return true;
    });
    if (changed.length > 0)
      for (const l of migrationCalls({ ...r, calls: changed }, this.ctx.style).slice(1)) this.ctx.out(l);
  }

  final(r: MigrationRecordView): void {
    this.ctx.out('');
    for (const l of migrationHeader(r, this.ctx.style)) this.ctx.out(l);
    for (const l of migrationCalls(r, this.ctx.style)) this.ctx.out(l);
  }

  trouble(err: unknown): void {
    const text = errorText(err);
    if (text !== this.lastProblem) this.ctx.out(this.ctx.style.red(`  (no answer: ${text})`));
    this.lastProblem = text;
  }

  abandon(id: string): undefined {
    return stopped(this.ctx, id);
  }

  forgotten(id: string): undefined {
    this.ctx.out(`migration ${id} is no longer kept in full; migrations lists its result`);
    return undefined;
  }
}
