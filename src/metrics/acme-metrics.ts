import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { AcmeStatus } from '../../actors/acme/protocol.ts';

/**
 * The ACME service's metrics, read from `/services/acme`'s `status` when scraped (one ask per scrape), one series per
 * configured certificate (by its first name: the topology bounds them). An alert on
 * `mware_acme_cert_not_after_seconds - time()` needs no knowledge of the service. No series where it does not run.
 */
export function registerAcmeMetrics(
  r: Registry,
  /** The service's status as it answers now, or undefined when it does not run here or answer. */
  statusOf: () => Promise<AcmeStatus | undefined>,
): void {
  let round: { at: number; status: Promise<AcmeStatus | undefined> } | undefined;
  const status = (): Promise<AcmeStatus | undefined> => {
    const now = performance.now();
    if (!round || now - round.at > 500) round = { at: now, status: statusOf().catch(() => undefined) };
    return round.status;
  };
  const perCert = (name: string, help: string, value: (c: AcmeStatus['certs'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['cert'],
      registers: [r],
      async collect() {
        const s = await status();
        this.reset();
        for (const c of s?.certs ?? []) {
          const v = value(c);
          if (v !== null) this.set({ cert: c.name }, v);
        }
      },
    });
  perCert(
    'mware_acme_cert_not_after_seconds',
    'End of the certificate in its folder (Unix seconds); absent while there is none',
    (c) => (c.not_after === null ? null : c.not_after / 1000),
  );
  perCert(
    'mware_acme_cert_renew_at_seconds',
    'When the certificate is renewed (Unix seconds), or its next attempt after a failure',
    (c) => {
      const at = c.failures > 0 ? c.next_attempt_at : c.renew_at;
      return at === null ? null : at / 1000;
    },
  );
  perCert(
    'mware_acme_cert_failures',
    'Failed attempts in a row for the certificate (0: the last one succeeded)',
    (c) => c.failures,
  );
}
