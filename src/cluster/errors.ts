import { errorKind, registerErrorClass } from '../errors.ts';

/** A peer node cannot be reached over the node channel now (refused, silent, or its connection dropped). */
export class PeerUnavailable extends errorKind('MW_ERR_PEER_UNAVAILABLE') {}
registerErrorClass(PeerUnavailable);

/** A node-channel connection failed its handshake or sent a frame that did not verify. */
export class ChannelRefused extends errorKind('MW_ERR_CHANNEL_REFUSED') {}
registerErrorClass(ChannelRefused);
