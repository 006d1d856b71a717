/** The simulator's public contract (shared design, "Simulator contract"). */

export interface SimHostOptions {
  name: string;
  switchname: string;
  password?: string;
  eslHost?: string;
  /** 0/undefined → a free port; kept across restart(). */
  eslPort?: number;
  /** IPs the host owns (media can bind there). */
  addresses: string[];
  sipIp: string;
  mediaIp: string;
  profiles: string[];
  /** Shared core DB; the simulator connects with application_name=<switchname>. */
  db: { connectionString: string };
  recoverMsPerLeg?: number;
  reinviteWindowMs?: number;
  bridgeDelayMs?: number;
  heartbeatMs?: number;
  maxSessions?: number;
  /** Addition: FreeSWITCH-Hostname header / `hostname` of the machine (default: switchname). */
  hostname?: string;
  /** Addition: bound of each listener's event queue (FreeSWITCH: 100,000). */
  eventQueueMax?: number;
  /**
   * Addition: plain events encode non-BMP characters as FreeSWITCH does when a name reached it as JSON
   * `\uD83D\uDE00` escapes — surrogate halves, `%ED%A0%BD%ED%B8%80` — which modesl's decodeURIComponent throws on.
   */
  surrogateEncoding?: boolean;
  /** Addition: recover this many legs between two sleeps (default 25). */
  recoverBatch?: number;
}

export type PeerMode = 'rport' | 'old-address' | 'via';

export interface PlaceCallOptions {
  profile: string;
  domain: string;
  caller: string;
  callee: string;
  /** Default true: A and B legs, bridged. */
  bridged?: boolean;
  /** One leg joined to this conference (with bridged=false; with bridged=true the A leg is still bridged). */
  conference?: string;
  peer?: PeerMode;
  /** Addition: caller id name (e.g. with an emoji). */
  callerName?: string;
  /** Addition: a Record-Route the legs saw (→ sip_invite_route_uri / sip_invite_record_route). */
  recordRoute?: string;
}

export interface SimCall {
  callId: string;
  /** uuids, A first. */
  legs: string[];
}

export interface SimChannel {
  uuid: string;
  direction: 'inbound' | 'outbound';
  profile: string;
  state: string;
  bridgedTo?: string;
  conference?: string;
  recovered: boolean;
  domain: string;
  callId: string;
  mediaIp: string;
  mediaPort: number;
  viaHost: string;
  /**
   * Other live channels of this host whose RTP socket is bound to the same mediaIp:mediaPort. A real FreeSWITCH
   * sets SO_REUSEADDR on RTP sockets (switch_rtp.c:2835), so a recovered leg binds a port already in use without
   * an error; observed on 1.10.12 (FINDINGS.md g): both calls stay up, nothing is logged.
   */
  mediaSharedWith: string[];
  /**
   * Whether the RTP sent to its port reaches it: Linux hands a unicast datagram on a shared port to the socket
   * bound last, so the older channel hears nothing and the newer one hears both peers (and, auto-adjusting, sends
   * its audio to the other call's peer) — observed on 1.10.12.
   */
  receivesMedia: boolean;
}

export interface SimHangup {
  uuid: string;
  cause: string;
  at: number;
}

export interface SimHost {
  readonly name: string;
  readonly switchname: string;
  readonly eslPort: number;
  coreUuid(): string;
  placeCall(o: PlaceCallOptions): Promise<SimCall>;
  /** Addition: n calls at once, their rows written in one multi-row INSERT. */
  placeCalls(n: number, o: PlaceCallOptions): Promise<SimCall[]>;
  hangup(uuid: string, cause?: string): Promise<void>;
  /** Addition: the next channels' RTP ports go on from this even port (where a real host's random pick may land). */
  setNextMediaPort(port: number): void;
  setPeer(uuid: string, mode: PeerMode): void;
  channels(): SimChannel[];
  hangups(): SimHangup[];
  failNextCleanup(): void;
  /** As `fsctl pause` / `fsctl resume` from the console. */
  pause(): void;
  resume(): void;
  crash(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  readonly paused: boolean;
  /** Addition: resolves when the SQL and timers started so far have settled (for tests). */
  idle(): Promise<void>;
  /** The ESL sessions end (a network blip): channels and rows stay, the host runs on. */
  dropConnections(): void;
  /** A hung process: sockets stay open, no command is answered until `thaw()`. */
  freeze(): void;
  thaw(): void;
}
