import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { AcmeArgs, AcmeSaved } from '../../../actors/acme/acme-actor.ts';
import { acmeActor } from '../../../actors/acme/acme-actor.ts';
import { ariCertId, authorityKeyId } from '../../../actors/acme/ari.ts';
import type { AcmeAttemptResult, AcmeProtocol, AcmeStatus } from '../../../actors/acme/protocol.ts';
import { RATE_LIMITED, retryDelayMs } from '../../../actors/acme/renewal.ts';
import { alarmOf } from '../../../actors/syslog-snmp/alarms.ts';
import type { Behavior } from '../../../src/actor-system/kind.ts';
import { ActorRef } from '../../../src/actor-system/actor-ref.ts';
import { MwareClient } from '../../../src/client/client.ts';
import { createLogger } from '../../../src/log/log.ts';
import { runOnce } from '../../../src/shell/shell.ts';
import type { Deviation } from '../../../src/monitor/deviation.ts';
import { ManualClock } from '../../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../../src/supervision/events.ts';
import { Acme } from '../../../topology/schema.ts';
import type { Pebble } from '../../harness/index.ts';
import { freePort, requireBinary, run, startPebble, tempDir } from '../../harness/index.ts';
import { until } from '../../harness/poll.ts';
import { oneNodeTopology, startInProcessNode } from '../../support/in-process-node.ts';
import { testActorContext } from '../../support/actor-context.ts';

/**
 * Starts: one real pebble (ACME, issuing 300-second certificates, validating for real) with pebble-challtestsrv as
 * its DNS (every name → 127.0.0.1; TXT records set by the dns-01 hook through its API). The service's HTTP-01
 * responder listens on the port pebble validates on; one service runs at a time.
 */

const LIFETIME_S = 300;
/** 129.6 s: a 300 s certificate is "expiring" in its last 43 %. */
const ALARM_DAYS = 0.0015;

let pebble: Pebble;
let httpPort: number;
const dir = tempDir('acme');
const caFile = join(dir.path, 'pebble-ca.pem');

before(async () => {
  httpPort = await freePort();
  pebble = await startPebble({ httpPort, validitySeconds: LIFETIME_S });
  writeFileSync(caFile, pebble.caPem);
});
after(async () => {
  await pebble?.stop();
  dir.cleanup();
});

interface Service {
  actor: Behavior<AcmeProtocol>;
  clock: ManualClock;
  notices: ServiceNotice[];
  saved: () => AcmeSaved | undefined;
  status(): AcmeStatus;
  deviations(): Deviation[];
  renew(name: string): Promise<AcmeAttemptResult>;
  revoke(name: string): Promise<AcmeAttemptResult>;
  stop(): Promise<void>;
}

let n = 0;
/** The chain the first test obtained (a real pebble certificate for the ARI test). */
let firstChain: string | undefined;
/** A certificate folder of its own. */
function certDir(): string {
  return join(dir.path, `cert-${++n}`);
}

async function startService(
  config: Record<string, unknown>,
  o: {
    restored?: AcmeSaved;
    clock?: ManualClock;
    runHook?: AcmeArgs['runHook'];
    /** Where the actor's log records go (parsed), when a test reads them. */
    logged?: Record<string, unknown>[];
  } = {},
): Promise<Service> {
  const clock = o.clock ?? new ManualClock(0, Date.now());
  const notices: ServiceNotice[] = [];
  const args: AcmeArgs = {
    config: Acme.parse({
      directory_url: pebble.directoryUrl,
      ca_file: caFile,
      email: 'ops@example.test',
      http01: { port: httpPort },
      alarm_days: ALARM_DAYS,
      backoff: { initial_s: 5, max_s: 60 },
      ...config,
    }),
    http01Address: '127.0.0.1',
    notify: (e) => notices.push(e),
    // No jitter: renewal exactly at ⅔, back-off exactly doubling.
    random: () => 0.5,
    requestTimeoutMs: 5_000,
    pollMs: 50,
    ...(o.runHook && { runHook: o.runHook }),
  };
  const ctx = testActorContext<AcmeSaved>('/services/acme', {
    clock,
    restored: o.restored,
    durable: true,
    log: o.logged
      ? createLogger({
          level: 'info',
          destination: new Writable({
            write(chunk: Buffer, _e, cb) {
              for (const l of chunk.toString().split('\n').filter(Boolean))
                o.logged?.push(JSON.parse(l) as Record<string, unknown>);
              cb();
            },
          }),
        })
      : undefined,
  });
  const actor = await acmeActor.create(args, ctx.context);
  const h = actor.handlers;
  return {
    actor,
    clock,
    notices,
    saved: ctx.saved,
    status: () => h.status.call(actor, null) as AcmeStatus,
    deviations: () => h.deviations.call(actor, null) as Deviation[],
    renew: async (name) => h.renew.call(actor, { name }),
    revoke: async (name) => h.revoke.call(actor, { name }),
    stop: async () => actor.stop?.(),
  };
}

function cert0(s: Service) {
  const c = s.status().certs[0];
  assert.ok(c);
  return c;
}

async function issuedOnce(s: Service): Promise<void> {
  await until('the first certificate is issued', async () => cert0(s).serial !== null && !cert0(s).running, {
    ms: 10_000,
    detail: () => JSON.stringify(s.status()),
  });
}

describe('ACME certificates, against a real pebble', () => {
  it('obtains a certificate for two names by HTTP-01 on its own listener, writes the key (0600) and the chain, and plans the renewal at ⅔ of the lifetime', async () => {
    const d = certDir();
    const s = await startService({
      certs: [{ names: ['www.example.test', 'api.example.test'], challenge: 'http-01', dir: d }],
    });
    try {
      await issuedOnce(s);
      const c = cert0(s);
      assert.equal(c.phase, 'valid');
      assert.equal(c.failures, 0);
      const x = new X509Certificate(readFileSync(join(d, 'fullchain.pem')));
      firstChain = join(d, 'fullchain.pem');
      assert.equal(x.subjectAltName, 'DNS:www.example.test, DNS:api.example.test');
      assert.equal(c.serial, x.serialNumber.toUpperCase());
      assert.ok(x.checkPrivateKey(createPrivateKey(readFileSync(join(d, 'key.pem')))));
      assert.equal(statSync(join(d, 'key.pem')).mode & 0o777, 0o600);
      // The chain goes up to pebble's intermediate: the web role serves it whole.
      assert.equal(
        (readFileSync(join(d, 'fullchain.pem'), 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length,
        2,
      );
      const life = (c.not_after ?? 0) - (c.not_before ?? 0);
      assert.ok(Math.abs(life - LIFETIME_S * 1000) <= 1000, `lifetime ${life}`);
      assert.equal(c.renew_by, 'fraction');
      assert.equal(c.renew_at, Math.round((c.not_before ?? 0) + (life * 2) / 3));
      // The account key is in the state, the certificate's key is not; no notice carries a key.
      const saved = s.saved();
      assert.match(saved?.account_key_pem ?? '', /BEGIN PRIVATE KEY|BEGIN EC PRIVATE KEY/);
      assert.doesNotMatch(JSON.stringify(saved?.certs), /PRIVATE KEY/);
      assert.deepEqual(
        s.notices.map((e) => [e.topic, e.event, e.level]),
        [['acme', 'issued', 'info']],
      );
      assert.doesNotMatch(JSON.stringify(s.notices), /PRIVATE KEY/);
      assert.deepEqual(s.deviations(), []);
      // Between orders the responder answers nothing: a finished challenge's token is gone.
      assert.equal(s.status().http01, `http://127.0.0.1:${httpPort}`);
      for (const path of ['/.well-known/acme-challenge/abcDEF_-123', '/.well-known/acme-challenge/../x', '/'])
        assert.equal((await fetch(`http://127.0.0.1:${httpPort}${path}`)).status, 404, path);
    } finally {
      await s.stop();
    }
  });

  it('renews at ⅔ of the lifetime on its clock and not before: a new key and serial in place, the schedule moved on', async () => {
    const d = certDir();
    const s = await startService({
      certs: [{ names: ['renew.example.test'], challenge: 'http-01', dir: d }],
    });
    try {
      await issuedOnce(s);
      const first = cert0(s);
      const firstKey = readFileSync(join(d, 'key.pem'), 'utf8');
      await s.clock.advance((first.renew_at ?? 0) - s.clock.wallNow() - 1_000);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(cert0(s).serial, first.serial, 'renewed before ⅔ of its lifetime');
      assert.equal(cert0(s).running, false);
      await s.clock.advance(2_000);
      await until('renewed', async () => cert0(s).serial !== first.serial && !cert0(s).running, {
        ms: 10_000,
      });
      const second = cert0(s);
      assert.notEqual(readFileSync(join(d, 'key.pem'), 'utf8'), firstKey, 'a renewal makes a new key');
      assert.equal(second.serial, new X509Certificate(readFileSync(join(d, 'fullchain.pem'))).serialNumber);
      assert.ok((second.renew_at ?? 0) > (first.renew_at ?? 0));
      assert.equal(second.last_success_at, s.clock.wallNow());
    } finally {
      await s.stop();
    }
  });

  it('obtains a certificate for a name and its wildcard by DNS-01: the hook sets each TXT record before validation and clears them after the order', async () => {
    const d = certDir();
    const log = join(dir.path, 'hook.log');
    const hook = join(dir.path, 'dns-hook.sh');
    const curl = '/usr/bin/curl';
    writeFileSync(
      hook,
      [
        '#!/bin/sh',
        `echo "$1 $2" >> ${log}`,
        'echo "provider: $1 $2 accepted" >&2',
        `if [ "$1" = set ]; then body="{\\"host\\":\\"$2.\\",\\"value\\":\\"$3\\"}"; else body="{\\"host\\":\\"$2.\\"}"; fi`,
        `exec ${curl} -sf -o /dev/null -X POST -d "$body" ${pebble.challtestUrl}/$1-txt`,
        '',
      ].join('\n'),
    );
    chmodSync(hook, 0o755);
    const logged: Record<string, unknown>[] = [];
    const s = await startService(
      {
        certs: [
          { names: ['dns.example.test', '*.dns.example.test'], challenge: 'dns-01', dir: d, hook: [hook] },
        ],
      },
      { logged },
    );
    try {
      await issuedOnce(s);
      assert.equal(cert0(s).phase, 'valid');
      const x = new X509Certificate(readFileSync(join(d, 'fullchain.pem')));
      assert.equal(x.subjectAltName, 'DNS:dns.example.test, DNS:*.dns.example.test');
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      // Pebble may reuse a valid authorization, so one or two; every set comes before every clear.
      const sets = calls.filter((l) => l.startsWith('set '));
      assert.ok(sets.length >= 1 && sets.length <= 2, calls.join('; '));
      assert.ok(
        calls.every((l) => l.endsWith(' _acme-challenge.dns.example.test')),
        calls.join('; '),
      );
      assert.equal(calls.filter((l) => l.startsWith('clear ')).length, sets.length);
      assert.ok(calls.findIndex((l) => l.startsWith('clear ')) >= sets.length, calls.join('; '));
      // The hook's output is in the node's log, a record per line with its source (item 8 of the issue).
      const said = logged.filter((l) => l.source === 'acme-hook');
      assert.deepEqual(
        [
          ...new Set(
            said.map((l) => `${String(l.action)} ${String(l.stream)} ${String(l.level)} ${String(l.msg)}`),
          ),
        ],
        [
          'set stderr 40 provider: set _acme-challenge.dns.example.test accepted',
          'clear stderr 40 provider: clear _acme-challenge.dns.example.test accepted',
        ],
      );
    } finally {
      await s.stop();
    }
  });

  it('a dns-01 hook that fails is MW_ERR_ACME_HOOK in the certificate’s last error, and the service keeps running', async () => {
    const s = await startService(
      {
        certs: [
          { names: ['hookfail.example.test'], challenge: 'dns-01', dir: certDir(), hook: ['/bin/false'] },
        ],
      },
      { runHook: async () => ({ code: 3 }) },
    );
    try {
      await until('the attempt failed', async () => cert0(s).failures === 1 && !cert0(s).running, {
        ms: 10_000,
      });
      const c = cert0(s);
      assert.equal(c.last_error?.code, 'MW_ERR_ACME_HOOK');
      assert.match(c.last_error?.message ?? '', /set _acme-challenge\.hookfail\.example\.test exited with 3/);
      assert.equal(c.phase, 'failing');
      assert.equal(c.next_attempt_at, s.clock.wallNow() + 5_000);
      assert.deepEqual(
        s.deviations().map((v) => [v.kind, v.severity]),
        [['cert-renew-failing', 'critical']],
      );
      await assert.rejects(s.renew('nosuch.example.test'), { code: 'MW_ERR_ACME_UNKNOWN_CERT' });
      await assert.rejects(s.revoke('hookfail.example.test'), { code: 'MW_ERR_ACME_NO_CERT' });
    } finally {
      await s.stop();
    }
  });

  it('revoke-and-replace: the replacement is in the folder before the old certificate is revoked at the CA', async () => {
    const d = certDir();
    const s = await startService({
      certs: [{ names: ['revoke.example.test'], challenge: 'http-01', dir: d }],
    });
    try {
      await issuedOnce(s);
      const old = cert0(s).serial ?? '';
      assert.equal(await pebble.certStatus(old), 'Valid');
      const r = await s.revoke('revoke.example.test');
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.revoked_serial, old);
      assert.notEqual(r.cert.serial, old);
      assert.equal(await pebble.certStatus(old), 'Revoked');
      assert.equal(await pebble.certStatus(r.cert.serial ?? ''), 'Valid');
      assert.equal(new X509Certificate(readFileSync(join(d, 'fullchain.pem'))).serialNumber, r.cert.serial);
      assert.deepEqual(
        s.notices.map((e) => e.event),
        ['issued', 'issued', 'revoked'],
      );
    } finally {
      await s.stop();
    }
  });

  it('restarts from its state: the same account key, the certificate in its folder kept and not ordered again; without state, one past its ⅔ is renewed at once', async () => {
    const d = certDir();
    const a = await startService({
      certs: [{ names: ['restart.example.test'], challenge: 'http-01', dir: d }],
    });
    await issuedOnce(a);
    const before = cert0(a);
    await a.stop();
    const saved = a.saved();
    assert.ok(saved);
    const b = await startService(
      { certs: [{ names: ['restart.example.test'], challenge: 'http-01', dir: d }] },
      { restored: saved, clock: a.clock },
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      const c = cert0(b);
      assert.equal(c.serial, before.serial);
      assert.equal(c.renew_at, before.renew_at);
      assert.equal(b.saved()?.account_key_pem, saved.account_key_pem);
      assert.deepEqual(b.notices, [], 'ordered again after a restart');
    } finally {
      await b.stop();
    }
    // Without saved state (state_mode none) the certificate in the folder still counts: past its ⅔ (the node was
    // down meanwhile), it is renewed at once.
    await a.clock.advance((before.renew_at ?? 0) - a.clock.wallNow() + 1_000);
    const c = await startService(
      { certs: [{ names: ['restart.example.test'], challenge: 'http-01', dir: d }] },
      { clock: a.clock },
    );
    try {
      await until('renewed at once', async () => cert0(c).serial !== before.serial && !cert0(c).running, {
        ms: 10_000,
      });
      assert.equal(c.notices.filter((e) => e.event === 'issued').length, 1);
    } finally {
      await c.stop();
    }
  });

  it('respects a rate limit: after 429 rateLimited with Retry-After the next attempt waits that long, not the back-off', async () => {
    // Pebble 2.4 has no rate limits: a stand-in ACME server (TLS with pebble's certificate) serves the directory and
    // nonces, and answers every POST as a rate-limited CA does (RFC 8555 §6.6).
    const srv = createHttpsServer({ cert: pebble.caPem, key: pebble.tlsKeyPem }, (req, res) => {
      const base = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      if (req.url === '/dir') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            newNonce: `${base}/nonce`,
            newAccount: `${base}/acct`,
            newOrder: `${base}/order`,
          }),
        );
        return;
      }
      if (req.url === '/nonce') {
        res.writeHead(200, { 'replay-nonce': `n${Date.now()}`, 'cache-control': 'no-store' }).end();
        return;
      }
      req.resume();
      res.writeHead(429, {
        'content-type': 'application/problem+json',
        'retry-after': '120',
        'replay-nonce': 'x',
      });
      res.end(JSON.stringify({ type: RATE_LIMITED, detail: 'too many new accounts from this address' }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const s = await startService({
      directory_url: `https://127.0.0.1:${(srv.address() as AddressInfo).port}/dir`,
      certs: [{ names: ['limited.example.test'], challenge: 'http-01', dir: certDir() }],
    });
    try {
      await until('the attempt failed', async () => cert0(s).failures === 1 && !cert0(s).running, {
        ms: 10_000,
      });
      const c = cert0(s);
      assert.equal(c.last_error?.code, 'MW_ERR_ACME_REQUEST');
      assert.equal(c.last_error?.details?.problem, RATE_LIMITED);
      assert.match(c.last_error?.message ?? '', /rateLimited: too many new accounts/);
      assert.equal(c.next_attempt_at, s.clock.wallNow() + 120_000);
      await s.clock.advance(119_000);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(cert0(s).failures, 1, 'tried again before Retry-After');
    } finally {
      await s.stop();
      srv.close();
    }
  });

  // Last: it stops and restarts pebble.
  it('server down: backs off doubling, alarms once the certificate nears its end (a notice that becomes a trap, deviations), and recovers when the server is back', async () => {
    const d = certDir();
    let down = false;
    const s = await startService({ certs: [{ names: ['down.example.test'], challenge: 'http-01', dir: d }] });
    try {
      await issuedOnce(s);
      const c = cert0(s);
      await pebble.stopServer();
      down = true;
      await s.clock.advance((c.renew_at ?? 0) - s.clock.wallNow());
      await until('the first attempt failed', async () => cert0(s).failures === 1 && !cert0(s).running, {
        ms: 10_000,
      });
      const f1 = cert0(s);
      assert.equal(f1.last_error?.code, 'MW_ERR_ACME_REQUEST');
      assert.match(f1.last_error?.message ?? '', /ECONNREFUSED/);
      assert.equal(f1.next_attempt_at, s.clock.wallNow() + 5_000);
      assert.equal(f1.phase, 'expiring');
      // The alarm came when the last ALARM_DAYS began, before the renewal time; the failure is an error now.
      const loud = s.notices.filter((e) => e.level !== 'info');
      assert.deepEqual(
        loud.map((e) => [e.event, e.level]),
        [
          ['expiring', 'warn'],
          ['renew-failed', 'error'],
        ],
      );
      for (const e of loud)
        assert.ok(alarmOf({ ...e, path: '/services/acme', at: 0 }), `${e.event} is no alarm`);
      assert.deepEqual(
        s.deviations().map((v) => [v.kind, v.severity]),
        [
          ['cert-expiring', 'warning'],
          ['cert-renew-failing', 'warning'],
        ],
      );
      const since = s.deviations()[0]?.since;

      await s.clock.advance(5_000);
      await until('the second attempt failed', async () => cert0(s).failures === 2 && !cert0(s).running, {
        ms: 10_000,
      });
      assert.equal(cert0(s).next_attempt_at, s.clock.wallNow() + 10_000, 'the wait doubles');
      assert.equal(s.deviations()[0]?.since, since, 'a deviation keeps its first time while it holds');
      await s.clock.advance(9_000);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(cert0(s).failures, 2, 'an attempt before the back-off ended');

      await pebble.startServer();
      down = false;
      await s.clock.advance(1_000);
      await until(
        'renewed once the server is back',
        async () => cert0(s).failures === 0 && !cert0(s).running,
        {
          ms: 10_000,
          detail: () =>
            JSON.stringify(cert0(s)) +
            JSON.stringify(
              s.notices.map((e) => e.message),
              null,
              1,
            ),
        },
      );
      const renewed = cert0(s);
      assert.notEqual(renewed.serial, c.serial);
      assert.equal(renewed.last_error, null);
      assert.ok(!s.deviations().some((v) => v.kind === 'cert-renew-failing'));
      // The test's clock is ~200 s ahead of pebble's: the new certificate arrives past its ⅔ by our clock. It is
      // renewed at ⅔ of what is left of it, not again and again.
      assert.equal(
        renewed.renew_at,
        Math.round(s.clock.wallNow() + (((renewed.not_after ?? 0) - s.clock.wallNow()) * 2) / 3),
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(s.notices.filter((e) => e.event === 'issued').length, 2);
    } finally {
      await s.stop();
      if (down) await pebble.startServer();
    }
  });
});

describe('ACME renewal rules', () => {
  const b = { initial_s: 60, max_s: 3600 };
  const mid = () => 0.5;
  it('doubles the wait per failure up to max_s, ±10 % at random', () => {
    const none = { retryAfterMs: null, problem: null };
    assert.deepEqual(
      [1, 2, 3, 7, 20].map((f) => retryDelayMs(f, b, none, mid)),
      [60_000, 120_000, 240_000, 3_600_000, 3_600_000],
    );
    assert.equal(
      retryDelayMs(1, b, none, () => 0),
      54_000,
    );
    assert.equal(
      retryDelayMs(1, b, none, () => 1),
      66_000,
    );
  });
  it('waits at least what Retry-After says, and an hour when rate-limited without one', () => {
    assert.equal(retryDelayMs(1, b, { retryAfterMs: 7_200_000, problem: RATE_LIMITED }, mid), 7_200_000);
    assert.equal(retryDelayMs(1, b, { retryAfterMs: null, problem: RATE_LIMITED }, mid), 3_600_000);
    assert.equal(retryDelayMs(3, b, { retryAfterMs: 1_000, problem: null }, mid), 240_000);
  });
  it('names a certificate for ARI as RFC 9773 §4.1 does, from the AKI of a real certificate', async () => {
    const aki = Buffer.from('69885B6B87464041E1B37B847BA0AE2CDE01C8D4', 'hex');
    assert.equal(ariCertId(aki, '0087654321'), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    assert.equal(ariCertId(aki, '87654321'), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    // The AKI read from DER is the one openssl reads.
    const pemFile = firstChain;
    assert.ok(pemFile, 'needs the certificate the first test obtained');
    const text = await run('openssl', requireBinary('openssl'), [
      ...['x509', '-noout', '-ext', 'authorityKeyIdentifier', '-in', pemFile],
    ]);
    const want = /([0-9A-F]{2}(:[0-9A-F]{2})+)/.exec(text)?.[1]?.replaceAll(':', '');
    const got = authorityKeyId(new X509Certificate(readFileSync(pemFile)).raw)
      ?.toString('hex')
      .toUpperCase();
    assert.ok(want);
    assert.equal(got, want);
  });
});

const READER = 'reader-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';

/** Runs one shell line as `mware shell -c` does (plain output). */
async function shell(url: string, token: string, line: string): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const client = new MwareClient({ url, token, timeoutMs: 20_000, channel: false });
  const code = await runOnce(client, line, sink, false);
  client.close();
  assert.doesNotMatch(out, /PRIVATE KEY/);
  return { code, out };
}

describe('ACME in a node (topology → /services/acme), against a real pebble', () => {
  it('issues what the topology lists, and answers GET /api/v1/acme/certs and deviations', async () => {
    const d = certDir();
    const nodeDir = join(dir.path, 'node');
    mkdirSync(nodeDir);
    const topology = await oneNodeTopology('acmetest', {
      acme: {
        directory_url: pebble.directoryUrl,
        ca_file: caFile,
        http01: { port: httpPort },
        alarm_days: ALARM_DAYS,
        certs: [{ names: ['node.example.test'], challenge: 'http-01', dir: d }],
      },
    });
    (topology as { security?: unknown }).security = {
      api_tokens: [
        { name: 'reader', token: READER, scopes: ['send'] },
        { name: 'ops', token: ADMIN, scopes: ['admin'] },
      ],
    };
    const n = await startInProcessNode(nodeDir, topology);
    try {
      const ref = new ActorRef('/services/acme', n.node.directory);
      await until(
        'issued in the node',
        async () => ((await ref.ask('status', null)) as AcmeStatus).certs[0]?.serial != null,
        {
          ms: 15_000,
        },
      );
      const port = (topology.roles as { api: { port: number } }[])[0]?.api.port;
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/acme/certs`, {
        headers: { authorization: `Bearer ${READER}` },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as AcmeStatus;
      assert.equal(body.certs[0]?.name, 'node.example.test');
      assert.equal(body.certs[0]?.phase, 'valid');
      assert.doesNotMatch(JSON.stringify(body), /PRIVATE KEY/);
      assert.deepEqual(await ref.ask('deviations', null), []);
      const metrics = await (
        await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${READER}` } })
      ).text();
      assert.match(
        metrics,
        new RegExp(
          `^mware_acme_cert_not_after_seconds\\{cert="node\\.example\\.test",node="mware1"\\} ${(body.certs[0]?.not_after ?? 0) / 1000}$`,
          'm',
        ),
      );
      assert.match(metrics, /^mware_acme_cert_failures\{cert="node\.example\.test",node="mware1"\} 0$/m);
      // The shell's `certs` reads the same; `certs renew` (admin) renews through the API.
      const url = `http://127.0.0.1:${port}`;
      const listed = await shell(url, READER, 'certs');
      assert.equal(listed.code, 0, listed.out);
      assert.match(listed.out, /^ {2}NAME\s+PHASE\s+NOT AFTER\s+NEXT RENEWAL\s+LAST ERROR$/m);
      assert.match(
        listed.out,
        /^ {2}node\.example\.test\s+valid\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in 4 min/m,
      );
      const refused = await shell(url, READER, 'certs renew node.example.test');
      assert.equal(refused.code, 1);
      assert.match(refused.out, /MW_ERR_FORBIDDEN/);
      const renewed = await shell(url, ADMIN, 'certs renew node.example.test');
      assert.equal(renewed.code, 0, renewed.out);
      const after = ((await ref.ask('status', null)) as AcmeStatus).certs[0];
      assert.notEqual(after?.serial, body.certs[0]?.serial);
      assert.match(renewed.out, new RegExp(`node\\.example\\.test: serial ${after?.serial ?? '?'} until`));
      const unknown = await shell(url, ADMIN, 'certs renew nosuch.example.test');
      assert.equal(unknown.code, 1);
      assert.match(unknown.out, /MW_ERR_ACME_UNKNOWN_CERT/);
      const issued = n.events.find((e) => e.type === 'notice' && e.topic === 'acme');
      assert.equal(issued?.path, '/services/acme');
      assert.ok(!n.logLines.some((l) => l.includes('PRIVATE KEY')), 'a key in the log');
    } finally {
      await n.node.stop();
    }
  });
});
