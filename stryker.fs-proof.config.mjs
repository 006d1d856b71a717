import { target } from './stryker.base.mjs';

// The per-call proof of a migration (actors/freeswitch/proof.ts: re-created, re-bridged, through the re-INVITE
// window without a recovery hangup) against its sentences (test/actors/fs-proof.test.ts).
export default target('fs-proof', 'actors/freeswitch/proof.ts', 'test/actors/fs-proof.test.ts');
