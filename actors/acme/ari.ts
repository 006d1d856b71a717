import { X509Certificate } from 'node:crypto';
import type { AcmeServer } from './acme-ca.ts';
import { getJson, renewalInfoBase } from './acme-ca.ts';

/**
 * ACME Renewal Information (RFC 9773): the server suggests a window to renew a certificate in (earlier when it
 * plans to revoke it). A certificate is named by its CertID, `base64url(AKI keyIdentifier) "." base64url(serial)`.
 */

const AKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]);

/** A DER length at `at`: [length, offset of the content]. */
function derLength(der: Buffer, at: number): [number, number] {
  const first = der[at] ?? 0;
  if (first < 0x80) return [first, at + 1];
  const n = first & 0x7f;
  let len = 0;
  for (let i = 1; i <= n; i++) len = len * 256 + (der[at + i] ?? 0);
  return [len, at + 1 + n];
}

/** The authority key identifier of a DER certificate, or undefined when it has none. */
export function authorityKeyId(der: Buffer): Buffer | undefined {
  const oid = der.indexOf(AKI_OID);
  if (oid < 0) return undefined;
  let at = oid + AKI_OID.length;
  if (der[at] === 0x01) at += 3; // critical BOOLEAN
  if (der[at] !== 0x04) return undefined; // extnValue OCTET STRING
  const [, value] = derLength(der, at + 1);
  if (der[value] !== 0x30) return undefined; // AuthorityKeyIdentifier SEQUENCE
  const [, inner] = derLength(der, value + 1);
  if (der[inner] !== 0x80) return undefined; // [0] keyIdentifier
  const [len, id] = derLength(der, inner + 1);
  return der.subarray(id, id + len);
}

/** The serial as its DER INTEGER content bytes (a leading zero byte when the high bit is set). */
export function serialBytes(serialHex: string): Buffer {
  let hex = serialHex.length % 2 === 1 ? `0${serialHex}` : serialHex;
  if (/^[89a-f]/i.test(hex)) hex = `00${hex}`;
  return Buffer.from(hex, 'hex');
}

export function ariCertId(akiKeyId: Buffer, serialHex: string): string {
  return `${akiKeyId.toString('base64url')}.${serialBytes(serialHex).toString('base64url')}`;
}

export interface AriWindow {
  start: number;
  end: number;
}

/** The suggested window for `leafPem`, or undefined when the server offers no ARI or the certificate no AKI. */
export async function fetchAriWindow(server: AcmeServer, leafPem: string): Promise<AriWindow | undefined> {
  const base = await renewalInfoBase(server);
  if (base === undefined) return undefined;
  const x = new X509Certificate(leafPem);
  const aki = authorityKeyId(x.raw);
  if (!aki) return undefined;
  const r = await getJson(server, `${base.replace(/\/$/, '')}/${ariCertId(aki, x.serialNumber)}`);
  const w = (r.body as { suggestedWindow?: { start?: unknown; end?: unknown } } | undefined)?.suggestedWindow;
  const start = typeof w?.start === 'string' ? Date.parse(w.start) : NaN;
  const end = typeof w?.end === 'string' ? Date.parse(w.end) : NaN;
  if (r.status !== 200 || Number.isNaN(start) || Number.isNaN(end) || end < start) return undefined;
  return { start, end };
}
