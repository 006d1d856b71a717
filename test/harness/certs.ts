import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';

/**
 * A self-signed P-256 certificate made by openssl, valid a day, written to `dir` as `<name>.crt` and `<name>.key`.
 * `subject` is its common name and its one subject alternative name (an IP address or a DNS name).
 */
export function selfSignedCert(
  dir: string,
  opts: { name?: string; subject?: string } = {},
): { cert: string; key: string } {
  const name = opts.name ?? 'self';
  const subject = opts.subject ?? '127.0.0.1';
  const san = /^[\d.]+$/.test(subject) ? `IP:${subject}` : `DNS:${subject}`;
  const [cert, key] = [join(dir, `${name}.crt`), join(dir, `${name}.key`)];
  execFileSync(
    requireBinary('openssl'),
    [
      ...[
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
      ],
      ...['-subj', `/CN=${subject}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
