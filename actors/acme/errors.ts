import { CallerError, errorKind, registerErrorClass } from '../../src/errors.ts';

/**
 * Failures of the ACME service. Messages name the certificate (its first name), the step and the server's problem
 * document (`type`, `detail`), never a key, a CSR or a hook's output (which may carry a DNS API token).
 */

/**
 * The ACME server could not be reached or refused a request (`details.problem`: the RFC 8555 problem type, e.g.
 * `urn:ietf:params:acme:error:rateLimited`; `details.status`; `details.retry_after_ms` when it said when to come back).
 */
export class AcmeRequestFailed extends errorKind('MW_ERR_ACME_REQUEST') {}
registerErrorClass(AcmeRequestFailed);

/** A dns-01 hook command exited non-zero, or did not end in time (`details.exit`). */
export class AcmeHookFailed extends errorKind('MW_ERR_ACME_HOOK') {}
registerErrorClass(AcmeHookFailed);

/** The key or the chain could not be written to the certificate's folder. */
export class AcmeFilesFailed extends errorKind('MW_ERR_ACME_FILES') {}
registerErrorClass(AcmeFilesFailed);

/** `renew` or `revoke` named no configured certificate. */
export class AcmeUnknownCert extends errorKind('MW_ERR_ACME_UNKNOWN_CERT', CallerError) {}
registerErrorClass(AcmeUnknownCert);

/** `revoke` of a certificate that has not been issued yet. */
export class AcmeNoCert extends errorKind('MW_ERR_ACME_NO_CERT', CallerError) {}
registerErrorClass(AcmeNoCert);
