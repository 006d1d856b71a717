import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CHAIN_FILE,
  DATA_LINK,
  KEY_FILE,
  readCertDir,
  writeCertDir,
} from '../../../actors/acme/cert-files.ts';
import { selfSignedCert, tempDir } from '../../harness/index.ts';

/**
 * The certificate folder the web roles read: key and chain swapped as one (a `..data` link to a versioned folder),
 * the key 0600, an unusable pair refused before anything is touched.
 */

const tmp = tempDir('cert-files');
after(() => tmp.cleanup());

const pair = (name: string) => {
  const { cert, key } = selfSignedCert(tmp.path, { name, subject: `${name}.example.test` });
  return { key: readFileSync(key, 'utf8'), chain: readFileSync(cert, 'utf8') };
};
const A = pair('a');
const B = pair('b');
const serialOf = (chain: string) => new X509Certificate(chain).serialNumber.toUpperCase();

/**
 * A reader in another process, for `ms`: resolves `..data` once per read and checks that the key and chain it
 * finds there belong together; also opens `key.pem` and `fullchain.pem` by name, which must always exist.
 */
const READER = `
const fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const [dir, ms] = [process.argv[1], Number(process.argv[2])];
let reads = 0, mismatched = 0, missing = 0, errors = [];
for (const end = Date.now() + ms; Date.now() < end; ) {
  try {
    const folder = path.join(dir, fs.readlinkSync(path.join(dir, '..data')));
    const key = fs.readFileSync(path.join(folder, 'key.pem'));
    const chain = fs.readFileSync(path.join(folder, 'fullchain.pem'));
    if (!new crypto.X509Certificate(chain).checkPrivateKey(crypto.createPrivateKey(key))) mismatched++;
    reads++;
  } catch (e) {
    // The folder a read resolved was removed after a later swap: that read starts again.
    if (e.code !== 'ENOENT') { errors.push(String(e)); }
  }
  for (const f of ['key.pem', 'fullchain.pem'])
    try { fs.readFileSync(path.join(dir, f)); } catch (e) { missing++; errors.push(String(e)); }
}
console.log(JSON.stringify({ reads, mismatched, missing, errors: errors.slice(0, 3) }));
`;

describe('the certificate folder', () => {
  it('swaps key and chain as one: a reader resolving ..data never sees a key with another certificate’s chain, nor a file missing', async () => {
    const dir = join(tmp.path, 'swap');
    writeCertDir(dir, A.key, A.chain);
    const reader = spawn(process.execPath, ['-e', READER, dir, '1500'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let exited = false;
    const done = new Promise<void>((resolve) => reader.once('exit', () => ((exited = true), resolve())));
    let writes = 0;
    while (!exited) {
      const next = writes % 2 === 0 ? B : A;
      writeCertDir(dir, next.key, next.chain);
      writes++;
      // A swap every few ms, far more often than any renewal: a reader stalled across two swaps would lose its
      // folder (only the previous version is kept), which this pace leaves out.
      await new Promise((r) => setTimeout(r, 5));
    }
    await done;
    const r = JSON.parse(out) as { reads: number; mismatched: number; missing: number; errors: string[] };
    assert.ok(writes > 20 && r.reads > 20, `too little overlap to tell: ${writes} swaps, ${r.reads} reads`);
    assert.deepEqual(
      { mismatched: r.mismatched, missing: r.missing, errors: r.errors },
      {
        mismatched: 0,
        missing: 0,
        errors: [],
      },
    );
    // Older versions are gone: the current and the previous versioned folders, the link, the two names.
    const entries = readdirSync(dir).sort();
    assert.equal(entries.length, 5, entries.join(' '));
    assert.deepEqual(
      entries.filter((e) => !e.startsWith('..') || e === DATA_LINK),
      [DATA_LINK, CHAIN_FILE, KEY_FILE],
    );
    const current = readlinkSync(join(dir, DATA_LINK));
    const [previous] = entries.filter((e) => e.startsWith('..') && e !== DATA_LINK && e !== current);
    assert.ok(previous !== undefined && entries.includes(current));
    // The previous one holds the other pair (the writer alternated), whole.
    assert.notEqual(
      readFileSync(join(dir, previous, KEY_FILE), 'utf8'),
      readFileSync(join(dir, KEY_FILE), 'utf8'),
    );
  });

  it('replaces the plain files an earlier layout wrote with links, removes a crash’s leftovers, keeps the key 0600', () => {
    const dir = join(tmp.path, 'upgrade');
    mkdirSync(join(dir, '..20261201T000000000Z-00-abcdef'), { recursive: true }); // a version a crash left behind
    writeFileSync(join(dir, KEY_FILE), B.key, { mode: 0o600 });
    writeFileSync(join(dir, CHAIN_FILE), B.chain);
    writeFileSync(join(dir, `${DATA_LINK}.tmp`), 'half-made link');
    writeFileSync(join(dir, 'README'), 'not ours');
    const info = writeCertDir(dir, A.key, A.chain);
    assert.equal(info.serial, serialOf(A.chain));
    for (const [name, text] of [
      [KEY_FILE, A.key],
      [CHAIN_FILE, A.chain],
    ] as const) {
      assert.ok(lstatSync(join(dir, name)).isSymbolicLink(), `${name} is a link`);
      assert.equal(readlinkSync(join(dir, name)), join(DATA_LINK, name));
      assert.equal(readFileSync(join(dir, name), 'utf8'), text);
    }
    assert.equal(statSync(join(dir, KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, CHAIN_FILE)).mode & 0o777, 0o644);
    const version = readlinkSync(join(dir, DATA_LINK));
    assert.match(version, new RegExp(`^\\.\\.\\d{8}T\\d{9}Z-${serialOf(A.chain)}-[0-9a-f]{6}$`));
    assert.deepEqual(readdirSync(dir).sort(), [DATA_LINK, version, 'README', CHAIN_FILE, KEY_FILE].sort());
    assert.equal(readCertDir(dir)?.serial, serialOf(A.chain));
  });

  it('refuses a key that is not the certificate’s, touching nothing', () => {
    const dir = join(tmp.path, 'mismatch');
    writeCertDir(dir, A.key, A.chain);
    const before = readdirSync(dir).sort();
    assert.throws(
      () => writeCertDir(dir, B.key, A.chain),
      (e: Error & { code?: string }) =>
        e.code === 'MW_ERR_ACME_FILES' && /does not match its key/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir).sort(), before);
    assert.equal(readFileSync(join(dir, KEY_FILE), 'utf8'), A.key);
  });
});
