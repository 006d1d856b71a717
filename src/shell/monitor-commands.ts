import { registerShellCommand } from './command.ts';

/** `state`: the system state (06-services.md "Monitoring services") as an operator reads it in the shell. */
export function registerMonitorCommands(): void {
  registerShellCommand({
    name: 'state',
    usage: 'state',
    summary:
      'the system state: deviations on every node of every site (none = healthy), and who did not answer',
    run: async (_argv, _rest, ctx) => {
      const st = await ctx.client.systemState();
      const s = ctx.style;
      const down = st.nodes.filter((n) => !n.reachable).map((n) => n.name);
      ctx.out(
        `${s.bold(st.cluster)} · ${st.nodes.length} nodes${down.length ? ` (${s.red(`not answering: ${down.join(', ')}`)})` : ''} · ${st.healthy ? s.green('healthy') : s.red(`${st.deviations.length} deviations`)} · collected by ${st.collected_by} at ${st.collected_at}`,
      );
      for (const d of st.deviations) {
        const severity = d.severity === 'critical' ? s.red('critical') : s.yellow('warning ');
        const where = d.node ? `${d.node}${d.site ? `@${d.site}` : ''}` : (d.site ?? '');
        ctx.out(
          `  ${severity} ${where.padEnd(16)} ${d.kind.padEnd(20)} ${d.message} ${s.dim(`since ${d.since}`)}`,
        );
      }
    },
  });
}
