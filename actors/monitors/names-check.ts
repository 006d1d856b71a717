import type { ProbeResult, ProbeRunner } from './probe.ts';
import type { Check } from './check.ts';
import type { Observation } from './conditions.ts';

/**
 * Global names (06-services.md "Monitoring services"): a cluster-wide singleton — a group's active instance, a
 * controller — must be held exactly once. Each name has its claimants, each with a probe that passes while that
 * claimant holds the name; no holder is `name-missing`, two or more `name-duplicate` (a split brain: two nodes
 * each believing itself active). An unreachable claimant holds nothing.
 */

export interface GlobalName {
  name: string;
  claimants: { name: string; probe: ProbeRunner }[];
}

export function namesCheck(names: readonly GlobalName[]): Check {
  return {
    round: async () => (await Promise.all(names.map(observe))).flat(),
  };
}

async function observe(n: GlobalName): Promise<Observation[]> {
  const results = await Promise.all(n.claimants.map(async (c) => ({ c, r: await c.probe.run() })));
  const holders = results.filter((x) => x.r.ok).map((x) => x.c.name);
  const claimants = results.map(({ c, r }) => ({ name: c.name, target: c.probe.target, ...outcome(r) }));
  return [
    {
      key: `name-missing:${n.name}`,
      failing: holders.length === 0,
      kind: 'name-missing',
      severity: 'critical',
      message: `${n.name} is held by none of ${n.claimants.map((c) => c.name).join(', ')}`,
      details: { name: n.name, claimants },
    },
    {
      key: `name-duplicate:${n.name}`,
      failing: holders.length > 1,
      kind: 'name-duplicate',
      severity: 'critical',
      message: `${n.name} is held ${holders.length} times: ${holders.join(', ')}`,
      details: { name: n.name, holders },
    },
  ];
}

function outcome(r: ProbeResult): { holds: boolean; error?: string } {
  return r.ok ? { holds: true } : { holds: false, error: r.error };
}
