import type { z } from 'zod';
import type { ClusterTree } from '../api/schemas.ts';
import type { Tree } from '../client/client.ts';
import { BadRequest } from '../api/errors.ts';
import type { ShellContext } from './command.ts';
import { registerShellCommand, resolvePath, shellCommand, shellCommands } from './command.ts';
import type { Style } from './style.ts';

/** The shell's own commands (03-interfaces.md "Inspection shell"). */

function describe(n: Tree, s: Style): string {
  const parts = [
    s.state(n.state),
    s.dim(n.mode === 'supervisor' ? `${n.kind} (${n.strategy ?? 'supervisor'})` : `${n.kind} ${n.mode}`),
  ];
  if (n.restarts) parts.push(s.yellow(`↻${n.restarts}`));
  if (n.mailbox) parts.push(`mailbox ${n.mailbox}`);
  if (n.pid !== undefined) parts.push(s.dim(`pid ${n.pid}`));
  if (n.lastError) parts.push(s.red(`last error: ${n.lastError.message}`));
  return parts.join('  ');
}

/** The tree, indented with box-drawing lines. */
export function renderTree(root: Tree, s: Style): string[] {
  const lines = [`${s.bold(root.path)}  ${describe(root, s)}`];
  const walk = (n: Tree, prefix: string) => {
    const kids = n.children ?? [];
    kids.forEach((c, i) => {
      const last = i === kids.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${s.bold(c.id)}  ${describe(c, s)}`);
      walk(c, prefix + (last ? '    ' : '│   '));
    });
  };
  walk(root, '');
  return lines;
}

/** The whole cluster: a heading per node (its group, active or passive), then its tree indented under it. */
export function renderClusterTree(c: z.infer<typeof ClusterTree>, s: Style): string[] {
  const lines = [`cluster ${s.bold(c.cluster)} · ${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}`];
  for (const n of c.nodes) {
    const role = s.state(
      n.role === 'active' ? 'running' : n.role === 'passive' ? 'stopped' : 'failed',
      n.role,
    );
    const state = n.state !== null && n.state !== n.role ? s.dim(` (${n.state})`) : '';
    lines.push(
      '',
      `${s.bold(n.name)}  group ${n.group}  ${role}${state}${n.self ? s.dim('  this node') : ''}`,
    );
    if (n.error) lines.push(`  ${s.red(`unreachable: ${n.error.code}: ${n.error.message}`)}`);
    if (n.tree) for (const l of renderTree(n.tree, s)) lines.push(`  ${l}`);
  }
  return lines;
}

function json(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`the payload is not JSON: ${(err as Error).message}`);
  }
}

/** A value as text: strings as they are, anything else as JSON. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
}

function time(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

async function stopOnAbort<T>(
  ctx: ShellContext,
  it: AsyncIterable<T>,
  each: (x: T) => boolean | void,
): Promise<void> {
  try {
    for await (const x of it) if (each(x) === false) return;
  } catch (err) {
    if (!ctx.signal.aborted) throw err;
  }
}

/** A member's last heartbeat and its round trip, as the cluster view reports them. */
function heartbeat(m: { self: boolean; last_heartbeat_ms: number | null; lag_ms: number | null }): string {
  if (m.self) return 'heartbeat -';
  if (m.last_heartbeat_ms === null) return 'heartbeat never';
  const lag = m.lag_ms === null ? '-' : `${m.lag_ms} ms`;
  return `heartbeat ${Math.round(m.last_heartbeat_ms)} ms ago, lag ${lag}`;
}

export function registerBuiltinCommands(): void {
  registerShellCommand({
    name: 'help',
    usage: 'help [command]',
    summary: 'list the commands, or explain one',
    run: async ([name], _rest, ctx) => {
      const c = name !== undefined ? shellCommand(name) : undefined;
      if (c) return ctx.out(`${ctx.style.bold(c.usage)}\n  ${c.summary}`);
      for (const cmd of shellCommands()) ctx.out(`  ${cmd.usage.padEnd(34)} ${ctx.style.dim(cmd.summary)}`);
      ctx.out(
        ctx.style.dim(
          '  Paths are actor paths (/domains/test.rootdomain.ru), absolute or relative to the current one. Tab completes.',
        ),
      );
    },
  });

  registerShellCommand({
    name: 'tree',
    usage: 'tree [path | --cluster]',
    summary: 'the supervision tree: state, restarts, mailbox, pid, last error (--cluster: every node’s)',
    pathArgs: [0],
    run: async ([p], _rest, ctx) => {
      if (p === '--cluster') {
        for (const line of renderClusterTree(await ctx.client.clusterTree(), ctx.style)) ctx.out(line);
        return;
      }
      for (const line of renderTree(await ctx.client.tree(resolvePath(ctx.cwd, p)), ctx.style)) ctx.out(line);
    },
  });

  registerShellCommand({
    name: 'ls',
    usage: 'ls [path]',
    summary: 'the children of a supervisor (default: the current path)',
    pathArgs: [0],
    run: async ([p], _rest, ctx) => {
      const node = await ctx.client.tree(resolvePath(ctx.cwd, p));
      const kids = node.children ?? [];
      if (kids.length === 0) ctx.out(ctx.style.dim(`${node.path} has no children`));
      const width = Math.max(0, ...kids.map((k) => k.id.length));
      for (const k of kids) ctx.out(`${k.id.padEnd(width)}  ${describe(k, ctx.style)}`);
    },
  });

  registerShellCommand({
    name: 'cd',
    usage: 'cd [path]',
    summary: 'change the current path (.. goes up, / is the root)',
    pathArgs: [0],
    run: async ([p], _rest, ctx) => {
      const target = resolvePath(ctx.cwd, p ?? '/');
      if (target !== '/') await ctx.client.actor(target);
      ctx.cwd = target;
    },
  });

  registerShellCommand({
    name: 'info',
    usage: 'info [path]',
    summary: 'one actor: state, restarts and their times, last error, how its supervisor treats it',
    pathArgs: [0],
    run: async ([p], _rest, ctx) => {
      const d = await ctx.client.actor(resolvePath(ctx.cwd, p));
      const n = d.node;
      const s = ctx.style;
      const rows: [string, string][] = [
        ['path', s.bold(n.path)],
        ['kind', n.kind],
        ['mode', n.mode],
        ['state', s.state(n.state)],
        ['supervisor', d.parent ?? '(none: the node)'],
        ['restart', String(d.restart ?? '-')],
        ['shutdown', String(d.shutdown ?? '-')],
        [
          'restarts',
          `${n.restarts}${n.restartTimes.length ? ` (latest ${n.restartTimes.map(time).join(', ')})` : ''}`,
        ],
        ['mailbox', String(n.mailbox)],
      ];
      if (n.pid !== undefined) rows.push(['pid', String(n.pid)]);
      if (n.startedAt !== undefined) rows.push(['started', new Date(n.startedAt).toISOString()]);
      if (n.lastError) rows.push(['last error', s.red(`${n.lastError.code}: ${n.lastError.message}`)]);
      if (n.children) rows.push(['children', String(n.children.length)]);
      for (const [k, v] of rows) ctx.out(`${k.padEnd(11)} ${v}`);
    },
  });

  registerShellCommand({
    name: 'send',
    usage: 'send PATH TYPE [JSON]',
    summary: 'tell an actor a message (no reply)',
    pathArgs: [0],
    typeArgs: [1],
    run: async ([p, type], rest, ctx) => {
      if (p === undefined || type === undefined) throw new BadRequest('usage: send PATH TYPE [JSON]');
      await ctx.client.send(resolvePath(ctx.cwd, p), type, json(rest(2)));
      ctx.out(ctx.style.dim('accepted'));
    },
  });

  registerShellCommand({
    name: 'ask',
    usage: 'ask PATH TYPE [JSON]',
    summary: 'ask an actor and print its reply',
    pathArgs: [0],
    typeArgs: [1],
    run: async ([p, type], rest, ctx) => {
      if (p === undefined || type === undefined) throw new BadRequest('usage: ask PATH TYPE [JSON]');
      ctx.out(JSON.stringify(await ctx.client.ask(resolvePath(ctx.cwd, p), type, json(rest(2))), null, 2));
    },
  });

  for (const action of ['restart', 'stop', 'start'] as const) {
    registerShellCommand({
      name: action,
      usage: `${action} PATH`,
      summary: `${action} an actor through its supervisor`,
      pathArgs: [0],
      run: async ([p], _rest, ctx) => {
        if (p === undefined) throw new BadRequest(`usage: ${action} PATH`);
        const r = await ctx.client[action](resolvePath(ctx.cwd, p));
        ctx.out(`${r.path}  ${ctx.style.state(r.state)}`);
      },
    });
  }

  registerShellCommand({
    name: 'cluster',
    usage: 'cluster',
    summary: 'this node’s group: members in failover order, the active one, the epoch, heartbeats and lag',
    run: async (_argv, _rest, ctx) => {
      const c = await ctx.client.cluster();
      const s = ctx.style;
      ctx.out(
        `cluster ${s.bold(c.cluster)} · site ${c.site} · group ${c.group} · epoch ${c.epoch ?? '-'} · coordination ${c.coordination.kind} (${c.coordination.healthy ? s.green('healthy') : s.red('unhealthy')})`,
      );
      // Why it is unhealthy: shown to admin tokens only.
      if (!c.coordination.healthy && c.coordination.detail) ctx.out(s.dim(`  ${c.coordination.detail}`));
      for (const m of c.members) {
        ctx.out(
          `  ${m.name.padEnd(12)} order ${String(m.order).padEnd(5)} ${m.address.padEnd(16)} ${s.state(m.role === 'active' ? 'active' : 'stopped', m.role.padEnd(7))}  epoch ${String(m.epoch ?? '-').padEnd(4)} ${heartbeat(m)}${m.self ? s.dim(`  (this node, ${c.node_state})`) : ''}`,
        );
      }
    },
  });

  registerShellCommand({
    name: 'mutex',
    usage: 'mutex [key]',
    summary: 'keys with a live mutex, or one key’s holders and waiters',
    run: async ([key], _rest, ctx) => {
      if (key === undefined) {
        const keys = await ctx.client.mutex.keys();
        if (keys.length === 0) ctx.out(ctx.style.dim('no live mutex on this node'));
        for (const k of keys) ctx.out(k);
        return;
      }
      const info = await ctx.client.mutex.inspect(key);
      if (info.holders.length === 0 && info.waiters.length === 0) ctx.out(ctx.style.dim(`${key}: free`));
      for (const h of info.holders)
        ctx.out(
          `holder  ${h.owner}  ${h.mode}  token ${h.token}  until ${new Date(h.expires_at).toISOString()}`,
        );
      for (const w of info.waiters) ctx.out(`waiter  ${w.owner}  ${w.mode}  waiting ${w.waited_ms} ms`);
    },
  });

  registerShellCommand({
    name: 'events',
    usage: 'events [N]',
    summary: 'follow the inspection stream (Ctrl-C stops; N: stop after N events)',
    run: async ([n], _rest, ctx) => {
      const max = n === undefined ? Infinity : Number(n);
      let seen = 0;
      await stopOnAbort(ctx, ctx.client.events(ctx.signal), (e) => {
        if (e.type === 'hello') return;
        const d = e.data as Record<string, unknown>;
        const extra = Object.entries(d)
          .filter(([k]) => !['type', 'path', 'at'].includes(k))
          .map(([k, v]) => `${k}=${text(v)}`)
          .join(' ');
        ctx.out(
          `${time(typeof d.at === 'number' ? d.at : Date.now())}  ${ctx.style.bold(e.type.padEnd(13))} ${text(d.path ?? d.node)}  ${ctx.style.dim(extra)}`,
        );
        return ++seen < max;
      });
    },
  });

  registerShellCommand({
    name: 'logs',
    usage: 'logs [N] [-f]',
    summary: 'the node’s last N log lines (default 20); -f follows (Ctrl-C stops)',
    run: async (argv, _rest, ctx) => {
      const follow = argv.includes('-f');
      const n = Number(argv.find((a) => /^\d+$/.test(a)) ?? 20);
      await stopOnAbort(ctx, ctx.client.logs({ n, follow, signal: ctx.signal }), (line) => {
        try {
          const l = JSON.parse(line) as Record<string, unknown>;
          const level =
            (
              { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<
                number,
                string
              >
            )[Number(l.level)] ?? String(l.level);
          const head = `${text(l.time).slice(11, 23)}  ${level.padEnd(5)}`;
          const where = typeof l.path === 'string' ? `${l.path}  ` : '';
          ctx.out(
            `${level === 'error' || level === 'fatal' || level === 'warn' ? ctx.style.red(head) : ctx.style.dim(head)}  ${where}${text(l.msg)}`,
          );
        } catch {
          ctx.out(line);
        }
      });
    },
  });
}
