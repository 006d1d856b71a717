import type { MegacoMonitor } from '../../topology/schema.ts';
import type { Check } from './check.ts';
import { probeRunner } from './probe.ts';

/**
 * MEGACO (H.248) links between a media gateway controller and its media gateways: each configured link is up while
 * its probe passes — usually a TCP connect to the MG's H.248 port (2944/2945) — and `megaco-down` otherwise.
 */
export function megacoCheck(config: MegacoMonitor): Check {
  const links = config.links.map((l) => ({ ...l, runner: probeRunner(l.probe) }));
  return {
    round: () =>
      Promise.all(
        links.map(async (l) => {
          const r = await l.runner.run();
          return {
            key: `megaco-down:${l.mgc}:${l.mg}`,
            failing: !r.ok,
            kind: 'megaco-down',
            severity: 'critical' as const,
            message: `MEGACO ${l.mgc}–${l.mg} is down: ${r.ok ? '' : r.error}`,
            details: { mgc: l.mgc, mg: l.mg, target: l.runner.target },
          };
        }),
      ),
  };
}
