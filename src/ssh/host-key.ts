import { createHash, timingSafeEqual } from 'node:crypto';

/** `SHA256:<unpadded base64>` of a raw SSH public key blob: the form `ssh-keygen -l -E sha256` prints. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Whether `key` is the pinned one; the pin may be written with or without the `SHA256:` prefix and padding. */
export function matchesPin(key: Buffer, pin: string): boolean {
  const want = Buffer.from(`SHA256:${pin.replace(/^SHA256:/, '').replace(/=+$/, '')}`);
  const got = Buffer.from(fingerprintOf(key));
  return want.length === got.length && timingSafeEqual(want, got);
}
