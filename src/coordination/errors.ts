import { errorKind, registerErrorClass } from '../errors.ts';

/** Another live node already runs on this data directory (embedded coordination allows one). */
export class DataDirLocked extends errorKind('MW_ERR_DATA_DIR_LOCKED') {}
registerErrorClass(DataDirLocked);

/** The topology asks for something this build does not do yet. */
export class Unsupported extends errorKind('MW_ERR_UNSUPPORTED') {}
registerErrorClass(Unsupported);
