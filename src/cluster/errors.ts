import { errorKind, registerErrorClass } from '../errors.ts';

/** A peer node cannot be reached over the node channel now (refused, silent, or its connection dropped). */
export class PeerUnavailable extends errorKind('MW_ERR_PEER_UNAVAILABLE') {}
registerErrorClass(PeerUnavailable);

/** A node-channel connection failed its handshake or sent a frame that did not verify. */
export class ChannelRefused extends errorKind('MW_ERR_CHANNEL_REFUSED') {}
registerErrorClass(ChannelRefused);

/** A request reached a peer, which was lost before it answered: it may or may not have been handled. */
export class PeerLost extends errorKind('MW_ERR_PEER_LOST') {}
registerErrorClass(PeerLost);

/** A forwarded request would cross more nodes than allowed (nodes that disagree on the topology). */
export class HopLimit extends errorKind('MW_ERR_HOP_LIMIT') {}
registerErrorClass(HopLimit);
