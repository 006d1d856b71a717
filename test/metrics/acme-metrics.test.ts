import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import type { AcmeCertStatus, AcmeStatus } from '../../actors/acme/protocol.ts';
import { registerAcmeMetrics } from '../../src/metrics/acme-metrics.ts';

const cert = (over: Partial<AcmeCertStatus>): AcmeCertStatus => ({
  name: 'www.example.net',
  names: ['www.example.net'],
  challenge: 'http-01',
  dir: '/etc/ssl/www',
  phase: 'valid',
  serial: '01AB',
  not_before: 1_700_000_000_000,
  not_after: 1_707_776_000_000,
  renew_at: 1_705_184_000_000,
  renew_by: 'fraction',
  failures: 0,
  next_attempt_at: null,
  last_error: null,
  last_success_at: 1_700_000_000_000,
  running: false,
  ...over,
});

const STATUS: AcmeStatus = {
  directory_url: 'https://acme.example.net/directory',
  http01: 'http://127.0.0.1:80',
  ari: false,
  certs: [
    cert({}),
    cert({
      name: 'mail.example.net',
      phase: 'failing',
      serial: null,
      not_before: null,
      not_after: null,
      renew_at: null,
      failures: 3,
      next_attempt_at: 1_700_000_240_000,
    }),
  ],
};

it('shows each certificate’s end, next renewal (or retry) and failures, read from the status once per scrape', async () => {
  const r = new Registry();
  let asks = 0;
  registerAcmeMetrics(r, async () => {
    asks++;
    return STATUS;
  });
  const text = await r.metrics();
  assert.match(text, /^mware_acme_cert_not_after_seconds\{cert="www\.example\.net"\} 1707776000$/m);
  assert.doesNotMatch(text, /^mware_acme_cert_not_after_seconds\{cert="mail\.example\.net"\}/m);
  assert.match(text, /^mware_acme_cert_renew_at_seconds\{cert="www\.example\.net"\} 1705184000$/m);
  assert.match(text, /^mware_acme_cert_renew_at_seconds\{cert="mail\.example\.net"\} 1700000240$/m);
  assert.match(text, /^mware_acme_cert_failures\{cert="mail\.example\.net"\} 3$/m);
  assert.match(text, /^mware_acme_cert_failures\{cert="www\.example\.net"\} 0$/m);
  assert.equal(asks, 1);
});

it('has no series where the service does not run', async () => {
  const r = new Registry();
  registerAcmeMetrics(r, async () => undefined);
  assert.doesNotMatch(await r.metrics(), /^mware_acme_\w+\{/m);
});
