import { syslogSnmpActor } from '../actors/syslog-snmp/syslog-snmp-actor.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { GroupBoards, GroupDeps } from '../src/node/group.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';
import { ctiChild } from './cti.ts';

/**
 * `/services`: the group's platform services (06-services.md), each independent of the others (one_for_one).
 * Today `/services/cti` (supervisors/cti.ts), when the role gives `cti_adapters`, and `/services/syslog-snmp`, when
 * it gives `syslog_snmp`. A listener that cannot bind (the port taken) fails its actor; the backoff keeps the retries
 * from spinning.
 */
export function servicesChild(deps: GroupDeps, boards: GroupBoards = {}): ChildSpec | undefined {
  const children: ChildSpec[] = [];
  const cti = ctiChild(deps, boards);
  if (cti) children.push(cti);
  const syslog = deps.placement.role.syslog_snmp;
  if (syslog) {
    const iface = syslog.listen.iface;
    // topology/rules.ts has checked that a named alias exists on the role's server.
    const address =
      iface === 'default' ? deps.placement.address : (deps.placement.ifaces[iface] ?? deps.placement.address);
    children.push(
      actorChild(deps.runtime, {
        id: 'syslog-snmp',
        kind: syslogSnmpActor,
        args: { config: syslog, address, engineName: deps.placement.role.name, events: deps.events },
        mode: ACTOR_MODES.services,
        shutdown: 2_000,
      }),
    );
  }
  if (children.length === 0) return undefined;
  return supervisorChild({
    id: 'services',
    kind: 'services-supervisor',
    flags: {
      strategy: 'one_for_one',
      intensity: 100,
      periodMs: 60_000,
      backoff: { initialMs: 200, maxMs: 5_000 },
    },
    children,
  });
}
