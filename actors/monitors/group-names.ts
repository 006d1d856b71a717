import { groupInfo } from '../../topology/placement.ts';
import type { NamesMonitor, Topology } from '../../topology/schema.ts';
import { mwareRoles } from '../../topology/schema.ts';
import type { GlobalName } from './names-check.ts';
import { probeRunner } from './probe.ts';

/**
 * The global names a `names` monitor watches: `group-<n>-active` for each group in `groups` (every group of the
 * file with `all`), claimed by each member whose `/active` answers 200 (03-interfaces.md: 503 on a passive member),
 * then the configured `names`. `/active` carries no token and says nothing but its status; a member serving its API
 * over TLS is asked without checking its certificate, for which the topology gives no CA.
 */
export function globalNames(config: NamesMonitor, topology: Topology): GlobalName[] {
  const all = [...new Set(mwareRoles(topology).map((r) => r.group))].sort((a, b) => a - b);
  const groups = config.groups === undefined ? [] : config.groups === 'all' ? all : config.groups;
  const out: GlobalName[] = [];
  for (const g of groups) {
    const info = groupInfo(topology, g);
    if (!info) continue;
    out.push({
      name: `group-${g}-active`,
      claimants: info.members.flatMap((m) => {
        const host = topology.servers.find((s) => s.name === m.server)?.ifaces[m.iface];
        if (host === undefined) return [];
        const scheme = m.api.tls ? 'https' : 'http';
        const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${m.api.port}/active`;
        const probe = probeRunner({
          type: 'http-json',
          url,
          json_path: 'status',
          expect: 'active',
          tls_verify: false,
          timeout_ms: Math.min(2_000, config.interval_ms),
        });
        return [{ name: m.name, probe }];
      }),
    });
  }
  for (const n of config.names)
    out.push({
      name: n.name,
      claimants: n.claimants.map((c) => ({ name: c.name, probe: probeRunner(c.probe) })),
    });
  return out;
}
