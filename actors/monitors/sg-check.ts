import type { SerializedError } from '../../src/errors.ts';
import { serializeError } from '../../src/errors.ts';
import type { PgLimits, PgTarget } from '../../src/pg/db.ts';
import { pgEndpoint } from '../../src/pg/db.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import type { SgMonitor } from '../../topology/schema.ts';
import type { Check } from './check.ts';
import { RegistrationPurgeFailed } from './errors.ts';
import { probeRunner } from './probe.ts';
import { deleteRegistrations } from './registrations.ts';

/**
 * sg availability (06-services.md): a SIP gateway is lost when its probe has failed `confirm` rounds in a row; then
 * the WebSocket (WebRTC softphone) and TLS registrations bound to its sockets are deleted from the registrar's
 * `location` table, so that calls are not routed to dead sockets, and how many is told (a notice and the status).
 * Once per loss: a gateway that stays lost takes no new registrations. A delete that fails is retried every round
 * while the gateway stays lost.
 *
 * Fenced: the monitor runs only on its group's active instance, and it asks `leading()` — the coordination lease,
 * read at the moment — right before each delete, so an instance that lost its lease deletes nothing.
 */

export interface SgDeps {
  registrar: PgTarget;
  leading: () => boolean;
  epoch: () => number;
  notice: (n: ServiceNotice) => void;
  clock: Clock;
  limits?: PgLimits;
}

export interface Purge {
  gateway: string;
  deleted: number;
  at: string;
  epoch: number;
}

const KEEP_PURGES = 20;

export function sgCheck(config: SgMonitor, deps: SgDeps): Check {
  const gateways = config.gateways.map((g) => ({ ...g, runner: probeRunner(g.probe) }));
  const byKey = new Map(gateways.map((g) => [`sg-lost:${g.name}`, g]));
  /** Lost gateways whose registrations are still to be deleted, and whether a failure was told already. */
  const pending = new Map<string, { told: boolean }>();
  const purges: Purge[] = [];
  let deletedTotal = 0;
  let lastError: SerializedError | undefined;

  const purge = async (g: (typeof gateways)[number]): Promise<void> => {
    const p = pending.get(g.name);
    if (!p || !deps.leading()) return;
    const epoch = deps.epoch();
    try {
      const deleted = await deleteRegistrations(
        deps.registrar,
        config.registrar.table,
        g.sockets,
        config.transports,
        deps.limits,
      );
      pending.delete(g.name);
      lastError = undefined;
      deletedTotal += deleted;
      purges.push({ gateway: g.name, deleted, at: new Date(deps.clock.wallNow()).toISOString(), epoch });
      if (purges.length > KEEP_PURGES) purges.shift();
      deps.notice({
        type: 'notice',
        topic: 'monitor',
        event: 'registrations-deleted',
        level: 'warn',
        message: `SIP gateway ${g.name} lost: ${deleted} registrations (${config.transports.join(', ')}) deleted`,
        epoch,
        data: { monitor: config.name, gateway: g.name, deleted, sockets: g.sockets },
      });
    } catch (err) {
      const e = new RegistrationPurgeFailed(
        `SIP gateway ${g.name}: its registrations could not be deleted from ${pgEndpoint(deps.registrar)} (retried next round)`,
        { cause: err, details: { gateway: g.name } },
      );
      lastError = serializeError(e);
      if (p.told) return;
      p.told = true;
      deps.notice({
        type: 'notice',
        topic: 'monitor',
        event: 'registrations-delete-failed',
        level: 'error',
        message: `${e.message}: ${serializeError(err).message}`,
        epoch,
        data: { monitor: config.name, gateway: g.name },
      });
    }
  };

  return {
    round: () =>
      Promise.all(
        gateways.map(async (g) => {
          const r = await g.runner.run();
          return {
            key: `sg-lost:${g.name}`,
            failing: !r.ok,
            kind: 'sg-lost',
            severity: 'critical' as const,
            message: `SIP gateway ${g.name} is lost: ${r.ok ? '' : r.error}`,
            details: { gateway: g.name, sockets: g.sockets, target: g.runner.target },
          };
        }),
      ),
    after: async (transitions) => {
      for (const t of transitions) {
        const g = byKey.get(t.key);
        if (!g) continue;
        if (t.type === 'raised') pending.set(g.name, { told: false });
        else pending.delete(g.name);
      }
      for (const g of gateways) await purge(g);
    },
    detail: () => ({ deleted_total: deletedTotal, purges: [...purges], pending: [...pending.keys()] }),
    problem: () => lastError,
  };
}
