import { CallerError, errorKind, MwareError, registerErrorClass } from '../../src/errors.ts';

/** Failures of the CTI adapter servers (06-services.md "CTI event provider"). */

/** The adapter's server failed while it ran (its listener errored, or its own code threw): the actor restarts. */
export class CtiServerFailed extends errorKind('MW_ERR_CTI_SERVER', MwareError) {}
registerErrorClass(CtiServerFailed);

/** A client gave no token or a wrong one (WebSocket close 4401, gRPC UNAUTHENTICATED). */
export class CtiUnauthorized extends errorKind('MW_ERR_CTI_UNAUTHORIZED', CallerError) {}
registerErrorClass(CtiUnauthorized);

/** A client's subscription was not understood (WebSocket close 4400, gRPC INVALID_ARGUMENT). */
export class CtiBadSubscription extends errorKind('MW_ERR_CTI_BAD_SUBSCRIPTION', CallerError) {}
registerErrorClass(CtiBadSubscription);
