import { loadTopologyFile } from '../../topology/load.ts';
import { formatProblem } from '../../topology/problems.ts';
import { mwareRoles } from '../../topology/schema.ts';
import { EXIT } from './exit-codes.ts';

/** `mware validate FILE`: every problem with its path and position; exit 0 valid, 2 invalid. */
export function validateCommand(file: string, out: (s: string) => void, err: (s: string) => void): number {
  const r = loadTopologyFile(file);
  if (!r.ok) {
    err(`${r.file}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`);
    for (const p of r.problems) err(`  ${formatProblem(p)}`);
    return EXIT.usage;
  }
  const t = r.topology;
  const roles = mwareRoles(t);
  const groups = new Set(roles.map((x) => x.group));
  out(
    `${r.file}: valid — ${t.sites.length} site(s), ${t.servers.length} server(s), ${roles.length} mware instance(s) in ${groups.size} group(s), ${t.domains.length} domain(s), coordination: ${t.coordination ? 'redis' : 'embedded'}`,
  );
  return EXIT.ok;
}
