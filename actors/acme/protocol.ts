import type { SerializedError } from '../../src/errors.ts';
import type { Deviation } from '../../src/monitor/deviation.ts';

/** Messages and views of the ACME certificate service, the actor at `/services/acme`. Never a key. */

export const ACME_EVENT_TOPIC = 'acme';

/**
 * - `missing`: no certificate for these names in its folder yet;
 * - `valid`: in its folder, not due;
 * - `due`: its renewal time has come (an attempt is queued or under way);
 * - `failing`: the last attempt failed, the next waits (`next_attempt_at`);
 * - `expiring`: within `alarm_days` of its end (and not renewed yet);
 * - `expired`.
 */
export type AcmeCertPhase = 'missing' | 'valid' | 'due' | 'failing' | 'expiring' | 'expired';

export interface AcmeCertStatus {
  /** The first name: how the certificate is named in messages, the shell and alarms. */
  name: string;
  names: string[];
  challenge: 'http-01' | 'dns-01';
  dir: string;
  phase: AcmeCertPhase;
  /** Of the certificate in its folder (hex), or null when there is none. */
  serial: string | null;
  /** Wall-clock ms. */
  not_before: number | null;
  not_after: number | null;
  /** When it is renewed (⅔ of its lifetime ± jitter, or the server's ARI window); null: at once (none yet). */
  renew_at: number | null;
  /** Where `renew_at` comes from. */
  renew_by: 'fraction' | 'ari' | null;
  /** Failed attempts in a row, and when the next one is made. */
  failures: number;
  next_attempt_at: number | null;
  last_error: SerializedError | null;
  last_success_at: number | null;
  /** An attempt is under way. */
  running: boolean;
}

export interface AcmeStatus {
  directory_url: string;
  /** Where HTTP-01 challenges are answered (`http://addr:port`), or null when no certificate uses http-01. */
  http01: string | null;
  /** Whether the server offers ACME Renewal Information (RFC 9773); null until asked. */
  ari: boolean | null;
  certs: AcmeCertStatus[];
}

/** The answer of `renew` and `revoke`: a failed attempt is an answer (ok: false), not an error of the actor. */
export interface AcmeAttemptResult {
  ok: boolean;
  error: SerializedError | null;
  cert: AcmeCertStatus;
  /** `revoke`: the serial revoked (once its replacement is in place), or null when it was not. */
  revoked_serial?: string | null;
}

export type AcmeRevokeReason = 'unspecified' | 'keyCompromise' | 'superseded';

export type AcmeProtocol = {
  status: { request: null; reply: AcmeStatus; scope: 'read' };
  deviations: { request: null; reply: Deviation[]; scope: 'read' };
  renew: { request: { name: string }; reply: AcmeAttemptResult; scope: 'admin' };
  revoke: { request: { name: string; reason?: AcmeRevokeReason }; reply: AcmeAttemptResult; scope: 'admin' };
};
