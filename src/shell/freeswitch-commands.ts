import { BadRequest } from '../api/errors.ts';
import type { MwareClient } from '../client/client.ts';
import { FsMigrationUnsuccessful } from '../freeswitch/errors.ts';
import type { ShellCommand, ShellContext } from './command.ts';
import { registerShellCommand } from './command.ts';
import { outcomeCounts, renderCalls, renderMigration, renderMigrations } from './freeswitch-render.ts';
import { watchMigration } from './migration-watch.ts';

/**
 * The shell's FreeSWITCH commands (03-interfaces.md "Inspection shell", 05-freeswitch.md "Shell / API"): `calls`,
 * `migrate` and `drain` with a live per-call progress view — "take over calls straight from the console" — and the
 * kept migrations. They read the API's facade, so they work against any node (a passive one forwards).
 */

async function hostNames(client: MwareClient): Promise<string[]> {
  return (await client.freeswitch()).hosts.map((h) => h.name);
}

/** Completes host names: the first word any host, the next ones the other hosts not named yet. */
const completeHosts =
  (many: boolean): NonNullable<ShellCommand['complete']> =>
  async (argv, position, client) => {
    if (position > 0 && !many) return [];
    const names = await hostNames(client);
    return names.filter((n) => !argv.slice(0, position).includes(n));
  };

function moveCommand(verb: 'migrate' | 'drain', summary: string): ShellCommand {
  return {
    name: verb,
    usage: `${verb} HOST [TO…]`,
    summary,
    complete: completeHosts(true),
    run: async ([host, ...to], _rest, ctx: ShellContext) => {
      if (host === undefined) throw new BadRequest(`usage: ${verb} HOST [TO…]`);
      const since = Date.now();
      const { id } = await ctx.client.freeswitchMove(verb, host, to.length > 0 ? { to } : {}, {
        signal: ctx.signal,
      });
      ctx.out(ctx.style.dim(`${verb} ${host}: migration ${id} (Ctrl-C stops watching, not the migration)`));
      const r = await watchMigration(ctx, { id, host, since });
      if (!r) return;
      const counts = outcomeCounts(r);
      const unmoved = r.calls.length - counts.moved;
      if (r.phase === 'failed' || unmoved > 0)
        throw new FsMigrationUnsuccessful(
          `${verb} ${host} ${r.phase === 'failed' ? `failed${r.reason ? `: ${r.reason}` : ''}` : 'ended'}; ` +
            `${counts.moved} of ${r.calls.length} calls moved, ${counts.lost} lost, ${counts.failed} failed`,
        );
      ctx.out(ctx.style.green(`${verb} ${host}: all ${r.calls.length} calls moved`));
    },
  };
}

export function registerFreeswitchCommands(): void {
  registerShellCommand({
    name: 'calls',
    usage: 'calls [HOST]',
    summary:
      'live FreeSWITCH channels of every host (or one): direction, state, numbers, partner, conference',
    complete: completeHosts(false),
    run: async ([host, ...extra], _rest, ctx) => {
      if (extra.length > 0) throw new BadRequest('usage: calls [HOST]');
      const { hosts } = await ctx.client.freeswitchCalls(host, { signal: ctx.signal });
      for (const l of renderCalls(hosts, ctx.style)) ctx.out(l);
    },
  });

  registerShellCommand(
    moveCommand(
      'migrate',
      'move every call of a FreeSWITCH host to the others (or to TO…), watching it call by call; the host runs on',
    ),
  );
  registerShellCommand(
    moveCommand(
      'drain',
      'pause a FreeSWITCH host, move its calls to the others (or to TO…) watching call by call, stop it without BYE',
    ),
  );

  registerShellCommand({
    name: 'migrations',
    usage: 'migrations',
    summary: 'the FreeSWITCH migration in progress and the recent ones: calls moved, lost, failed',
    run: async (argv, _rest, ctx) => {
      if (argv.length > 0) throw new BadRequest('usage: migrations');
      const { active, recent } = await ctx.client.freeswitchMigrations({ signal: ctx.signal });
      for (const l of renderMigrations(active, recent, ctx.style)) ctx.out(l);
    },
  });

  registerShellCommand({
    name: 'migration',
    usage: 'migration ID',
    summary: 'one FreeSWITCH migration call by call: target, outcome and cause, each target’s fsctl recover',
    complete: async (_argv, position, client) => {
      if (position !== 0) return [];
      const { active, recent } = await client.freeswitchMigrations();
      return [...(active ? [active.id] : []), ...[...recent].reverse().map((m) => m.id)];
    },
    run: async ([id, ...extra], _rest, ctx) => {
      if (id === undefined || extra.length > 0) throw new BadRequest('usage: migration ID');
      for (const l of renderMigration(
        await ctx.client.freeswitchMigration(id, { signal: ctx.signal }),
        ctx.style,
      ))
        ctx.out(l);
    },
  });
}
