/**
 * The FreeSWITCH ESL simulator (tests only): a stand-in for FreeSWITCH 1.10.12 that speaks ESL byte for byte and
 * keeps real rows in a real PostgreSQL `recovery` table, with FreeSWITCH's SQL and the recovery behaviour
 * observed on a real one. See /work/shared/spec/05-freeswitch.md, "The FreeSWITCH simulator".
 */
import { SimFreeswitch } from './host.ts';
import type { SimHost, SimHostOptions } from './types.ts';

export type {
  PeerMode,
  PlaceCallOptions,
  SimCall,
  SimChannel,
  SimHangup,
  SimHost,
  SimHostOptions,
} from './types.ts';
export { RECOVERY_DDL, RECOVERY_INDEXES } from './recovery-sql.ts';
export { buildMetadata, parseMetadata } from './metadata.ts';

/** Starts one simulated FreeSWITCH host (ESL listening, `recovery` table created if missing). */
export async function startEslSimulator(o: SimHostOptions): Promise<SimHost> {
  const h = new SimFreeswitch(o);
  await h.start();
  return h;
}
