import { errorKind, registerErrorClass } from '../../errors.ts';

/** A program the local cluster needs is not installed (the message says which package provides it). */
export class ProgramMissing extends errorKind('MW_ERR_PROGRAM_MISSING') {}
registerErrorClass(ProgramMissing);

/** The local cluster could not start (its Redis, or a file it cannot run). */
export class LocalClusterFailed extends errorKind('MW_ERR_LOCAL_CLUSTER_FAILED') {}
registerErrorClass(LocalClusterFailed);
