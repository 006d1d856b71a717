import { errorKind, registerErrorClass } from '../../src/errors.ts';

/**
 * Failures of the monitors' probes and actions. A probe's failure is an observation (the thing watched is down),
 * never the monitor's own failure: it is kept as data in the monitor's status. Messages name the target
 * (`host:port`, a URL without its user-info), never a community or a password.
 */

/** The target refused, reset or could not be reached; or answered something that is not a passing answer. */
export class ProbeFailed extends errorKind('MW_ERR_PROBE_FAILED') {}
registerErrorClass(ProbeFailed);

/** No answer within the probe's `timeout_ms`. */
export class ProbeTimeout extends errorKind('MW_ERR_PROBE_TIMEOUT') {}
registerErrorClass(ProbeTimeout);

/** The target answered, but not the expected value (`expect`), or nothing at `json_path`. */
export class ProbeMismatch extends errorKind('MW_ERR_PROBE_MISMATCH') {}
registerErrorClass(ProbeMismatch);

/** A lost SIP gateway's registrations could not be deleted (the registrar's database failed); retried next round. */
export class RegistrationPurgeFailed extends errorKind('MW_ERR_SG_PURGE') {}
registerErrorClass(RegistrationPurgeFailed);
