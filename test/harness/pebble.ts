import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { freePort } from './ports.ts';
import { ManagedProcess, run } from './process.ts';
import { tempDir } from './temp.ts';

/**
 * A real ACME server: Let's Encrypt's `pebble` on 127.0.0.1, with `pebble-challtestsrv` as its DNS server (every
 * name resolves to 127.0.0.1; TXT records set through its management API, as a dns-01 hook would). Pebble really
 * validates: HTTP-01 by fetching `http://<name>:<httpPort>/.well-known/acme-challenge/<token>`, DNS-01 by asking
 * challtestsrv. Its directory is served over TLS with a certificate made here (`caPem` trusts it). It keeps no
 * state: a restart forgets accounts and certificates and makes a new issuing CA.
 */

export interface PebbleOptions {
  /** The port pebble validates HTTP-01 on (where the node under test answers challenges). */
  httpPort: number;
  /** Lifetime of the certificates it issues; default 600 s. */
  validitySeconds?: number;
}

export interface Pebble {
  directoryUrl: string;
  /** Trusts the directory's TLS certificate. */
  caPem: string;
  /** The key of that certificate (self-signed, for 127.0.0.1): a test's own stand-in server can serve TLS with it. */
  tlsKeyPem: string;
  /** challtestsrv's management API (`/set-txt`, `/clear-txt`). */
  challtestUrl: string;
  /** `Valid` or `Revoked`, from pebble's management interface. */
  certStatus(serialHex: string): Promise<string>;
  /** Stops pebble only (the ACME server is down); challtestsrv stays. */
  stopServer(): Promise<void>;
  /** Starts pebble again on the same ports (a fresh one: no accounts, a new CA). */
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPebble(o: PebbleOptions): Promise<Pebble> {
  const pebbleBin = requireBinary('pebble');
  const challBin = requireBinary('pebble-challtestsrv');
  const openssl = requireBinary('openssl');
  const dir = tempDir('pebble');
  const [listen, mgmt, tls, dns, chall] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const cert = join(dir.path, 'cert.pem');
  const key = join(dir.path, 'key.pem');
  await run('openssl', openssl, [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
    ...['-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=pebble test'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
  ]);
  const config = join(dir.path, 'pebble.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: cert,
        privateKey: key,
        httpPort: o.httpPort,
        tlsPort: tls,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: o.validitySeconds ?? 600,
      },
    }),
  );
  const challtest = new ManagedProcess('pebble-challtestsrv', challBin, [
    ...['-http01', '', '-https01', '', '-tlsalpn01', ''],
    ...['-dns01', `127.0.0.1:${dns}`, '-management', `127.0.0.1:${chall}`],
    ...['-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
  ]);
  await challtest.waitForLine(/Starting management server/);
  let pebble: ManagedProcess | undefined;
  const startServer = async () => {
    pebble = new ManagedProcess(
      'pebble',
      pebbleBin,
      ['-config', config, '-dnsserver', `127.0.0.1:${dns}`],
      // Real validation, without pebble's random 0-15 s validation sleeps.
      { env: { ...process.env, PEBBLE_VA_NOSLEEP: '1' } },
    );
    await pebble.waitForLine(/ACME directory available/);
  };
  await startServer();
  const caPem = readFileSync(cert, 'utf8');
  const agent = new Agent({ ca: caPem });
  const challtestUrl = `http://127.0.0.1:${chall}`;
  return {
    directoryUrl: `https://127.0.0.1:${listen}/dir`,
    caPem,
    tlsKeyPem: readFileSync(key, 'utf8'),
    challtestUrl,
    certStatus: (serial) =>
      new Promise((resolve, reject) => {
        const req = request(
          `https://127.0.0.1:${mgmt}/cert-status-by-serial/${serial.toLowerCase()}`,
          { agent },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => {
              try {
                resolve(String((JSON.parse(body) as { Status?: unknown }).Status));
              } catch {
                reject(new Error(`pebble cert-status-by-serial ${serial}: ${res.statusCode ?? '?'} ${body}`));
              }
            });
          },
        );
        req.on('error', reject);
        req.end();
      }),
    stopServer: async () => {
      await pebble?.stop('SIGTERM');
      pebble = undefined;
    },
    startServer,
    stop: async () => {
      await pebble?.stop('SIGTERM');
      await challtest.stop('SIGTERM');
      agent.destroy();
      dir.cleanup();
    },
  };
}
