import { errorKind, registerErrorClass } from '../errors.ts';

/** The epoch file exists but does not hold an epoch: starting would risk fencing tokens going back. */
export class EpochUnreadable extends errorKind('MW_ERR_EPOCH_UNREADABLE') {}
registerErrorClass(EpochUnreadable);

/** The topology asks for something this build does not do yet. */
export class Unsupported extends errorKind('MW_ERR_UNSUPPORTED') {}
registerErrorClass(Unsupported);

/** Coordination was closed (the node is stopping) while something waited on it. */
export class CoordinationClosed extends errorKind('MW_ERR_COORDINATION_CLOSED') {}
registerErrorClass(CoordinationClosed);
