import { acmeActor } from '../actors/acme/acme-actor.ts';
import { syslogSnmpActor } from '../actors/syslog-snmp/syslog-snmp-actor.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { telegramActor } from '../actors/telegram/telegram-actor.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { GroupBoards, GroupDeps } from '../src/node/group.ts';
import { noticeTo } from '../src/node/group.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';
import { ctiChild } from './cti.ts';
import { monitorsChild } from './monitors.ts';

/**
 * `/services`: the group's platform services (06-services.md), each independent of the others (one_for_one).
 * Each is there when the role's topology gives its section: `/services/cti` (`cti_adapters`, supervisors/cti.ts),
 * `/services/syslog-snmp` (`syslog_snmp`), `/services/monitors` (one actor per entry of `monitors`),
 * `/services/telegram` (`telegram`, the administrators' bot), `/services/acme` (`acme`). A listener that cannot
 * bind (the port taken) fails its actor; the backoff keeps the retries from spinning.
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
  const monitors = monitorsChild(deps);
  if (monitors) children.push(monitors);
  const telegram = deps.placement.role.telegram;
  if (telegram)
    children.push(
      actorChild(deps.runtime, {
        id: 'telegram',
        kind: telegramActor,
        args: { config: telegram, systemState: deps.systemState },
        mode: ACTOR_MODES.services,
        // A long poll is aborted at once; a broadcast under way is given a moment to finish.
        shutdown: 5_000,
      }),
    );
  const acme = deps.placement.role.acme;
  if (acme) {
    const iface = acme.http01?.iface ?? 'default';
    children.push(
      actorChild(deps.runtime, {
        id: 'acme',
        kind: acmeActor,
        args: {
          config: acme,
          http01Address:
            iface === 'default'
              ? deps.placement.address
              : (deps.placement.ifaces[iface] ?? deps.placement.address),
          notify: noticeTo(deps.events, deps.clock, '/services/acme'),
        },
        mode: ACTOR_MODES.services,
        // An order under way is waited for (a few requests to the ACME server), then abandoned.
        shutdown: 10_000,
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
