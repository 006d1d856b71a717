import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../src/state/durable.ts';
import { AcmeFilesFailed } from './errors.ts';

/**
 * A certificate's folder, as the platform's web roles read it: `key.pem` (mode 0600) and `fullchain.pem` (the leaf
 * first, then the issuers; 0644). Each file is replaced by a rename, so a reader sees a whole old or a whole new
 * file; the key is renamed first and the chain right after, and the pair is checked to match before either is.
 */

export const KEY_FILE = 'key.pem';
export const CHAIN_FILE = 'fullchain.pem';

export interface CertInfo {
  serial: string;
  names: string[];
  notBefore: number;
  notAfter: number;
  /** The leaf as PEM (what `revoke` sends). */
  leafPem: string;
}

/** The certificate in `dir`, or undefined when there is none that parses. */
export function readCertDir(dir: string): CertInfo | undefined {
  let pem: string;
  try {
    pem = readFileSync(join(dir, CHAIN_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return certInfo(pem);
  } catch {
    return undefined;
  }
}

export function certInfo(chainPem: string): CertInfo {
  const x = new X509Certificate(chainPem);
  const names = (x.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return {
    serial: x.serialNumber.toUpperCase(),
    names,
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
    leafPem: x.toString(),
  };
}

/** Same names, in any order. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((n, i) => n === y[i]);
}

export function writeCertDir(dir: string, keyPem: string, chainPem: string): CertInfo {
  let info: CertInfo;
  try {
    info = certInfo(chainPem);
    if (!new X509Certificate(chainPem).checkPrivateKey(createPrivateKey(keyPem)))
      throw new Error('the issued certificate does not match its key');
  } catch (err) {
    throw new AcmeFilesFailed(`the certificate for ${dir} is unusable: ${(err as Error).message}`);
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    // A temporary file left by a crash keeps its mode when opened again: start from none.
    rmSync(join(dir, `${KEY_FILE}.tmp`), { force: true });
    writeFileAtomicSync(join(dir, KEY_FILE), keyPem, 0o600);
    rmSync(join(dir, `${CHAIN_FILE}.tmp`), { force: true });
    writeFileAtomicSync(join(dir, CHAIN_FILE), chainPem, 0o644);
  } catch (err) {
    throw new AcmeFilesFailed(`cannot write the certificate to ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return info;
}
