import type { PeerMode } from './types.ts';

/**
 * How each leg's SIP peer answers a re-INVITE. The peers live outside every FreeSWITCH, so this is one table for
 * all simulated hosts in the process: a leg recovered on another host keeps the peer it had (keyed by leg uuid).
 */
const peers = new Map<string, PeerMode>();

export function setPeerMode(uuid: string, mode: PeerMode): void {
  peers.set(uuid, mode);
}

export function peerMode(uuid: string): PeerMode {
  return peers.get(uuid) ?? 'rport';
}
