import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The cryptography of the node channel (02-runtime.md "Routing": authenticated with `security.cluster_secret`):
 *
 * Handshake — both sides prove they know the secret without sending it, each over a fresh random nonce of the other
 * side's choosing, so a recorded handshake proves nothing later:
 *   client → hello {node, nonce: Nc}
 *   server → challenge {node, nonce: Ns, proof: HMAC(secret, "server|Nc|Ns|server|client")}
 *   client → auth {proof: HMAC(secret, "client|Ns|Nc|client|server")}
 * Both then derive the session key K = HMAC(secret, "session|Nc|Ns").
 *
 * Frames — every frame after the handshake carries HMAC(K, direction ‖ counter ‖ payload); each direction counts
 * its frames from 0. A tampered frame fails its MAC; a replayed, dropped or reordered one fails because the
 * counter it was sealed with is not the one expected next; a frame from another connection fails because its
 * key differs. Any failure closes the connection.
 */

export const MAC_BYTES = 32;

export function nonce(): string {
  return randomBytes(16).toString('hex');
}

function hmac(key: string | Buffer, ...parts: string[]): Buffer {
  return createHmac('sha256', key).update(parts.join('|')).digest();
}

export function serverProof(
  secret: string,
  cNonce: string,
  sNonce: string,
  server: string,
  client: string,
): string {
  return hmac(secret, 'server', cNonce, sNonce, server, client).toString('hex');
}

export function clientProof(
  secret: string,
  cNonce: string,
  sNonce: string,
  client: string,
  server: string,
): string {
  return hmac(secret, 'client', sNonce, cNonce, client, server).toString('hex');
}

export function sessionKey(secret: string, cNonce: string, sNonce: string): Buffer {
  return hmac(secret, 'session', cNonce, sNonce);
}

/** Constant-time comparison of two hex proofs. */
export function sameProof(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** Seals and opens frames in one direction of one session. */
export class FrameSeal {
  private counter = 0n;

  constructor(
    private readonly key: Buffer,
    /** 'c' for frames the client sends, 's' for the server's. */
    private readonly direction: 'c' | 's',
  ) {}

  private mac(counter: bigint, payload: Buffer): Buffer {
    const head = Buffer.alloc(9);
    head.write(this.direction, 0, 'latin1');
    head.writeBigUInt64BE(counter, 1);
    return createHmac('sha256', this.key).update(head).update(payload).digest();
  }

  /** payload ‖ MAC, for the next counter. */
  seal(payload: Buffer): Buffer {
    const mac = this.mac(this.counter++, payload);
    return Buffer.concat([payload, mac]);
  }

  /** The payload of a sealed frame if it is the next one of this direction, untouched; otherwise undefined. */
  open(frame: Buffer): Buffer | undefined {
    if (frame.length < MAC_BYTES) return undefined;
    const payload = frame.subarray(0, frame.length - MAC_BYTES);
    const mac = frame.subarray(frame.length - MAC_BYTES);
    if (!timingSafeEqual(mac, this.mac(this.counter, payload))) return undefined;
    this.counter++;
    return payload;
  }
}
