import { errorKind, registerErrorClass } from '../errors.ts';

/** The state store cannot be opened or written (unwritable or full data directory, corrupt file). */
export class StateStoreError extends errorKind('MW_ERR_STATE_STORE') {}
registerErrorClass(StateStoreError);

/** A write carried an older fencing epoch than the one the key was last written with: a deposed active. */
export class StaleEpoch extends errorKind('MW_ERR_STALE_EPOCH') {}
registerErrorClass(StaleEpoch);

/** Another live node already runs on this data directory. */
export class DataDirLocked extends errorKind('MW_ERR_DATA_DIR_LOCKED') {}
registerErrorClass(DataDirLocked);
