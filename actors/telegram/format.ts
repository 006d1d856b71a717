import type { Deviation } from '../../src/monitor/deviation.ts';
import type { SystemState } from '../../src/monitor/schemas.ts';

/** Texts the bot sends: plain text (no parse mode, so nothing in a message needs escaping). */

/** A Bot API message holds at most 4096 characters. */
export const MAX_MESSAGE = 4096;

type Described = Pick<Deviation, 'severity' | 'message' | 'node' | 'site' | 'since'>;

export function describe(d: Described): string {
  const where = d.node ? `${d.node}${d.site ? `@${d.site}` : ''}` : (d.site ?? '');
  return `${d.severity === 'critical' ? 'CRITICAL' : 'warning'}${where ? ` [${where}]` : ''}: ${d.message} (since ${d.since})`;
}

export function broadcastText(
  cluster: string,
  raised: readonly Described[],
  cleared: readonly Described[],
): string {
  const lines = [`mware ${cluster}:`];
  for (const d of raised) lines.push(`NEW ${describe(d)}`);
  for (const d of cleared) lines.push(`CLEARED ${describe(d)}`);
  return lines.join('\n');
}

export function stateText(s: SystemState): string {
  const unreachable = s.nodes.filter((n) => !n.reachable).length;
  const head = `mware ${s.cluster}: ${s.nodes.length} nodes${unreachable ? `, ${unreachable} unreachable` : ''}`;
  if (s.healthy) return `${head}; healthy, no deviation (${s.collected_at})`;
  return [
    `${head}; ${s.deviations.length} deviations (${s.collected_at}):`,
    ...s.deviations.map(describe),
  ].join('\n');
}

/** `text` cut into messages the Bot API takes, at line ends where it can. */
export function chunks(text: string, max = MAX_MESSAGE): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = rest.lastIndexOf('\n', max);
    const at = cut > 0 ? cut : max;
    out.push(rest.slice(0, at));
    rest = rest.slice(cut > 0 ? at + 1 : at);
  }
  if (rest.length > 0) out.push(rest);
  return out;
}
