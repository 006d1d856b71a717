import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { syncDirSync, writeFileSyncedSync } from '../../src/state/durable.ts';
import { AcmeFilesFailed } from './errors.ts';

/**
 * A certificate's folder, as the platform's web roles read it: `key.pem` (mode 0600) and `fullchain.pem` (the leaf
 * first, then the issuers). The pair is swapped in one step, the way Kubernetes updates a mounted secret: each
 * version lives in its own hidden folder (`..<time>-<serial>`), `..data` is a symbolic link to the current one,
 * and `key.pem` / `fullchain.pem` are links through `..data`. A new version is written and synced in full, then
 * `..data` is replaced by a rename, so there is no instant at which the folder holds a key of one certificate and
 * the chain of another. (A reader that opens the two files at two moments can still straddle a swap; one that must
 * never do so resolves `..data` once and reads both files from the folder it names.) The version before the current
 * one is kept until the next swap, so a reader caught in the middle of one still finds its files; older ones are
 * removed. A crash in the middle leaves the previous pair in place and the leftovers are removed next time.
 */

export const KEY_FILE = 'key.pem';
export const CHAIN_FILE = 'fullchain.pem';
/** The link to the current version's folder. */
export const DATA_LINK = '..data';

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
    swapIn(dir, info, keyPem, chainPem);
  } catch (err) {
    throw new AcmeFilesFailed(`cannot write the certificate to ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return info;
}

/** Points `link` at `target` by renaming a fresh link over it (a file or a link already there is replaced whole). */
function relink(dir: string, link: string, target: string): void {
  const tmp = join(dir, `${link}.tmp`);
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, join(dir, link));
}

function swapIn(dir: string, info: CertInfo, keyPem: string, chainPem: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const version = `..${stamp}-${info.serial}-${randomBytes(3).toString('hex')}`;
  const folder = join(dir, version);
  mkdirSync(folder, { mode: 0o755 });
  writeFileSyncedSync(join(folder, KEY_FILE), keyPem, 0o600, 'wx');
  writeFileSyncedSync(join(folder, CHAIN_FILE), chainPem, 0o644, 'wx');
  syncDirSync(folder);
  let previous: string | undefined;
  try {
    previous = readlinkSync(join(dir, DATA_LINK));
  } catch {
    previous = undefined; // the first version
  }
  relink(dir, DATA_LINK, version);
  // Created once (or once over the plain files an earlier layout wrote); the rename above switches both.
  for (const name of [KEY_FILE, CHAIN_FILE]) {
    const target = join(DATA_LINK, name);
    let current: string | undefined;
    try {
      current = readlinkSync(join(dir, name));
    } catch {
      current = undefined; // not there yet, or a plain file
    }
    if (current !== target) relink(dir, name, target);
  }
  syncDirSync(dir);
  // The previous version stays until the next swap: a reader whose path walk resolved `..data` just before this one
  // still finds its files.
  for (const e of readdirSync(dir))
    if (e.startsWith('..') && e !== DATA_LINK && e !== version && e !== previous)
      rmSync(join(dir, e), { recursive: true, force: true });
}
