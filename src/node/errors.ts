import { errorKind, registerErrorClass } from '../errors.ts';

/** The node could not start: a dependency (data directory, state store, coordination) is not usable. */
export class NodeStartFailed extends errorKind('MW_ERR_NODE_START_FAILED') {}
registerErrorClass(NodeStartFailed);
