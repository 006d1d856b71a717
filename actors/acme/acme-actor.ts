import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { SerializedError } from '../../src/errors.ts';
import { serializeError } from '../../src/errors.ts';
import type { Deviation } from '../../src/monitor/deviation.ts';
import type { TimerHandle } from '../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import type { Acme, AcmeCert } from '../../topology/schema.ts';
import type { AcmeServer, ChallengeSolver } from './acme-ca.ts';
import { createAccountKey, issue, REVOKE_REASON, revoke } from './acme-ca.ts';
import { fetchAriWindow } from './ari.ts';
import type { CertInfo } from './cert-files.ts';
import { readCertDir, sameNames, writeCertDir } from './cert-files.ts';
import { ChallengeServer } from './challenge-server.ts';
import type { HookRunner } from './dns-hook.ts';
import { runHook, runHookProcess } from './dns-hook.ts';
import { childOutputLog } from '../../src/child-output.ts';
import { AcmeFilesFailed, AcmeNoCert, AcmeUnknownCert } from './errors.ts';
import type {
  AcmeAttemptResult,
  AcmeCertPhase,
  AcmeCertStatus,
  AcmeProtocol,
  AcmeRevokeReason,
  AcmeStatus,
} from './protocol.ts';
import { ACME_EVENT_TOPIC } from './protocol.ts';
import { inWindow, renewAt, retryDelayMs } from './renewal.ts';

/** Lines of a dns-01 hook's output logged per run (the rest are counted). */
const HOOK_LINES = 200;

/**
 * `/services/acme` (06-services.md "ACME"): obtains and renews the configured certificates one at a time, writes
 * each one's key and chain into its folder, renews at `renew_fraction` of the lifetime ± jitter (inside the server's
 * ARI window when it offers one), backs off after a failure (doubling, or what `Retry-After` says), and alarms
 * (notices of topic `acme`, deviations) when a certificate nears its end unrenewed. The account key and each
 * certificate's schedule and failures are saved in its state; the certificate itself is read back from its folder,
 * which is what the web roles serve.
 */

export interface AcmeArgs {
  config: Acme;
  /** The address the HTTP-01 responder binds to (the role's, or the alias `http01.iface` names). */
  http01Address: string;
  notify: (n: ServiceNotice) => void;
  /** For the renewal jitter and the back-off's; default Math.random. */
  random?: () => number;
  runHook?: HookRunner;
  /** Per request to the ACME server; default 30 s. */
  requestTimeoutMs?: number;
  /** First wait when polling an order; default 1 s. */
  pollMs?: number;
  /** A dns-01 hook's longest run; default 120 s. */
  hookTimeoutMs?: number;
}

/** What is kept of a certificate across restarts: the status fields that cannot be read back from its folder. */
export type SavedCert = Pick<
  AcmeCertStatus,
  'serial' | 'renew_at' | 'renew_by' | 'failures' | 'next_attempt_at' | 'last_error' | 'last_success_at'
>;

export interface AcmeSaved {
  /** The ACME account's private key (PEM): a secret, kept in state only, never shown. */
  account_key_pem: string;
  /** By certificate name (the first of its names). */
  certs: Record<string, SavedCert>;
}

/** The timer is re-armed at least this often, so a wall-clock change (NTP, DST) is noticed. */
const MAX_TIMER_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

interface Cert {
  config: AcmeCert;
  name: string;
  info: CertInfo | undefined;
  saved: SavedCert;
  queued: boolean;
  running: boolean;
  /** The alarm last raised for it (so each is raised once). */
  alarmed: 'expiring' | 'expired' | undefined;
}

class AcmeActor implements Behavior<AcmeProtocol> {
  private saved: AcmeSaved;
  private readonly certs: Cert[];
  private readonly server: AcmeServer;
  private readonly random: () => number;
  private challenges: ChallengeServer | undefined;
  private timer: TimerHandle | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private ari: boolean | null = null;
  /** When each current deviation was first seen (kept while it holds). */
  private readonly since = new Map<string, number>();

  constructor(
    private readonly args: AcmeArgs,
    private readonly ctx: ActorContext<AcmeSaved>,
  ) {
    const c = args.config;
    this.random = args.random ?? Math.random;
    this.saved = ctx.state.restored ?? { account_key_pem: '', certs: {} };
    this.server = {
      directoryUrl: c.directory_url,
      ...(c.ca_file !== undefined && { caPem: readCaFile(c.ca_file) }),
      timeoutMs: args.requestTimeoutMs ?? 30_000,
      pollMs: args.pollMs ?? 1_000,
    };
    this.certs = c.certs.map((config) => {
      const name = config.names[0] ?? '';
      return {
        config,
        name,
        info: undefined,
        saved: this.saved.certs[name] ?? freshRecord(),
        queued: false,
        running: false,
        alarmed: undefined,
      };
    });
  }

  async start(): Promise<this> {
    if (this.saved.account_key_pem === '') {
      this.saved = { ...this.saved, account_key_pem: await createAccountKey() };
      await this.save();
    }
    const http01 = this.args.config.http01;
    if (http01 && this.certs.some((c) => c.config.challenge === 'http-01')) {
      const server = new ChallengeServer(this.args.http01Address, http01.port);
      await server.start();
      this.challenges = server;
    }
    for (const cert of this.certs) this.load(cert);
    await this.save();
    this.arm();
    return this;
  }

  /** Reads the certificate in its folder; one for other names counts as none (it is replaced). */
  private load(cert: Cert): void {
    const info = readCertDir(cert.config.dir);
    cert.info = info && sameNames(info.names, cert.config.names) ? info : undefined;
    if (!cert.info) {
      cert.saved = { ...cert.saved, serial: null, renew_at: null, renew_by: null };
    } else if (cert.saved.serial !== cert.info.serial || cert.saved.renew_at === null) {
      // Found, not issued by us just now: past its renewal time (the node was down, say), it is renewed at once.
      cert.saved = { ...cert.saved, serial: cert.info.serial, ...this.fractionRenewal(cert.info, false) };
    }
    this.saved.certs[cert.name] = cert.saved;
  }

  /**
   * A certificate just issued that reaches us already past its renewal time (our clock ahead of the CA's, or a
   * lifetime shorter than an order takes) is renewed at the fraction of what is left of it, not at once: renewing
   * again and again would spend the CA's rate limit.
   */
  private fractionRenewal(info: CertInfo, fresh: boolean): Pick<SavedCert, 'renew_at' | 'renew_by'> {
    const c = this.args.config;
    const now = this.ctx.clock.wallNow();
    const planned = renewAt(info, c.renew_fraction, c.renew_jitter, this.random);
    const left = info.notAfter - now;
    const renew_at =
      !fresh || planned > now || left <= 0 ? planned : Math.round(now + left * c.renew_fraction);
    return { renew_at, renew_by: 'fraction' };
  }

  get handlers(): Handlers<AcmeProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<AcmeProtocol, AcmeActor> = {
    status() {
      return this.status();
    },
    deviations() {
      return this.deviations();
    },
    renew({ name }) {
      const cert = this.cert(name);
      return this.enqueue(cert, () => this.attempt(cert, 'renew'));
    },
    revoke({ name, reason }) {
      const cert = this.cert(name);
      if (!cert.info) throw new AcmeNoCert(`certificate ${name} has not been issued: nothing to revoke`);
      return this.enqueue(cert, () => this.revokeAndReplace(cert, reason ?? 'superseded'));
    },
  };

  private cert(name: string): Cert {
    const cert = this.certs.find((c) => c.name === name || c.config.names.includes(name));
    if (!cert)
      throw new AcmeUnknownCert(
        `no certificate "${name}" is configured (known: ${this.certs.map((c) => c.name).join(', ')})`,
      );
    return cert;
  }

  problem(): SerializedError | undefined {
    return this.certs.find((c) => c.saved.failures > 0)?.saved.last_error ?? undefined;
  }

  status(): AcmeStatus {
    return {
      directory_url: this.args.config.directory_url,
      http01: this.challenges?.url ?? null,
      ari: this.ari,
      certs: this.certs.map((c) => this.certStatus(c)),
    };
  }

  private phase(cert: Cert, now: number): AcmeCertPhase {
    const info = cert.info;
    if (info && now >= info.notAfter) return 'expired';
    if (info && info.notAfter - now <= this.alarmMs) return 'expiring';
    if (cert.saved.failures > 0) return 'failing';
    if (!info) return 'missing';
    return this.dueAt(cert, now) <= now ? 'due' : 'valid';
  }

  private certStatus(cert: Cert): AcmeCertStatus {
    const s = cert.saved;
    return {
      name: cert.name,
      names: [...cert.config.names],
      challenge: cert.config.challenge,
      dir: cert.config.dir,
      phase: this.phase(cert, this.ctx.clock.wallNow()),
      serial: cert.info?.serial ?? null,
      not_before: cert.info?.notBefore ?? null,
      not_after: cert.info?.notAfter ?? null,
      renew_at: s.renew_at,
      renew_by: s.renew_by,
      failures: s.failures,
      next_attempt_at: s.next_attempt_at,
      last_error: s.last_error,
      last_success_at: s.last_success_at,
      running: cert.running,
    };
  }

  private get alarmMs(): number {
    return this.args.config.alarm_days * DAY_MS;
  }

  /** When the next attempt for `cert` is due: its back-off after a failure, else its renewal time (none: now). */
  private dueAt(cert: Cert, now: number): number {
    if (cert.saved.failures > 0 && cert.saved.next_attempt_at !== null) return cert.saved.next_attempt_at;
    if (!cert.info || cert.saved.renew_at === null) return now;
    return cert.saved.renew_at;
  }

  deviations(): Deviation[] {
    const now = this.ctx.clock.wallNow();
    const out: Deviation[] = [];
    const current = new Set<string>();
    const add = (cert: Cert, kind: string, severity: Deviation['severity'], message: string) => {
      const key = `${kind}|${cert.name}`;
      current.add(key);
      const since = this.since.get(key) ?? now;
      this.since.set(key, since);
      out.push({
        source: this.ctx.path,
        kind,
        severity,
        since: new Date(since).toISOString(),
        message,
        details: {
          names: [...cert.config.names],
          not_after: cert.info ? new Date(cert.info.notAfter).toISOString() : null,
          failures: cert.saved.failures,
        },
      });
    };
    for (const cert of this.certs) {
      const info = cert.info;
      if (info && now >= info.notAfter)
        add(cert, 'cert-expired', 'critical', `certificate ${cert.name} expired ${iso(info.notAfter)}`);
      else if (info && info.notAfter - now <= this.alarmMs)
        add(cert, 'cert-expiring', 'warning', `certificate ${cert.name} expires ${iso(info.notAfter)}`);
      if (cert.saved.failures > 0)
        add(
          cert,
          'cert-renew-failing',
          info ? 'warning' : 'critical',
          `certificate ${cert.name}: ${cert.saved.failures} failed attempt(s), ${cert.saved.last_error?.message ?? ''}`,
        );
    }
    for (const k of [...this.since.keys()]) if (!current.has(k)) this.since.delete(k);
    return out;
  }

  /** Sets the timer for the next due attempt or alarm, and queues what is due now. */
  private arm(): void {
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.ctx.clock.wallNow();
    this.checkAlarms(now);
    let next = now + MAX_TIMER_MS;
    for (const cert of this.certs) {
      if (cert.queued) continue;
      const due = this.dueAt(cert, now);
      if (due <= now) {
        void this.enqueue(cert, () => this.attempt(cert, cert.info ? 'renewal' : 'first issue')).catch(
          (err: unknown) => this.ctx.log.error({ err, cert: cert.name }, 'acme: attempt failed unexpectedly'),
        );
        continue;
      }
      next = Math.min(next, due);
      if (cert.info)
        for (const t of [cert.info.notAfter - this.alarmMs, cert.info.notAfter])
          if (t > now) next = Math.min(next, t);
    }
    this.timer = this.ctx.clock.setTimeout(() => this.arm(), next - now);
  }

  /** Runs attempts one at a time (one order in flight per account keeps well inside a CA's limits). */
  private enqueue<T>(cert: Cert, fn: () => Promise<T>): Promise<T> {
    cert.queued = true;
    const p = this.tail.then(async () => {
      try {
        return await fn();
      } finally {
        cert.queued = false;
        this.arm();
      }
    });
    this.tail = p.catch(() => undefined);
    return p;
  }

  private checkAlarms(now: number): void {
    for (const cert of this.certs) {
      const info = cert.info;
      if (!info) continue;
      const left = info.notAfter - now;
      if (left <= 0 && cert.alarmed !== 'expired') {
        cert.alarmed = 'expired';
        this.notice('expired', 'error', `certificate ${cert.name} has expired (${iso(info.notAfter)})`, cert);
      } else if (left > 0 && left <= this.alarmMs && cert.alarmed === undefined) {
        cert.alarmed = 'expiring';
        this.notice(
          'expiring',
          'warn',
          `certificate ${cert.name} expires ${iso(info.notAfter)} and is not renewed yet`,
          cert,
        );
      } else if (left > this.alarmMs) cert.alarmed = undefined;
    }
  }

  private async attempt(cert: Cert, why: string): Promise<AcmeAttemptResult> {
    if (this.stopped) return { ok: false, error: null, cert: this.certStatus(cert) };
    cert.running = true;
    const started = this.ctx.clock.wallNow();
    const clears: (() => Promise<void>)[] = [];
    try {
      const issued = await issue(this.server, {
        accountKeyPem: this.saved.account_key_pem,
        email: this.args.config.email,
        names: cert.config.names,
        challenge: cert.config.challenge,
        solver: this.solver(cert, clears),
      });
      const info = writeCertDir(cert.config.dir, issued.keyPem, issued.chainPem);
      const renewal = (await this.ariRenewal(info)) ?? this.fractionRenewal(info, true);
      const now = this.ctx.clock.wallNow();
      // The certificate and its schedule change together: a status in between would show it due.
      cert.info = info;
      cert.saved = {
        serial: info.serial,
        ...renewal,
        failures: 0,
        next_attempt_at: null,
        last_error: null,
        last_success_at: now,
      };
      cert.alarmed = undefined;
      this.ctx.log.info(
        {
          cert: cert.name,
          serial: info.serial,
          not_after: iso(info.notAfter),
          renew_at: iso(cert.saved.renew_at ?? 0),
          why,
        },
        'acme: certificate issued',
      );
      this.notice(
        'issued',
        'info',
        `certificate ${cert.name} issued (${why}), valid until ${iso(info.notAfter)}, renewal ${iso(cert.saved.renew_at ?? 0)}`,
        cert,
      );
      return { ok: true, error: null, cert: this.certStatus(cert) };
    } catch (err) {
      const error = serializeError(err);
      const failures = cert.saved.failures + 1;
      const details = error.details ?? {};
      const wait = retryDelayMs(
        failures,
        this.args.config.backoff,
        {
          retryAfterMs: typeof details.retry_after_ms === 'number' ? details.retry_after_ms : null,
          problem: typeof details.problem === 'string' ? details.problem : null,
        },
        this.random,
      );
      const now = this.ctx.clock.wallNow();
      cert.saved = { ...cert.saved, failures, next_attempt_at: now + wait, last_error: error };
      this.ctx.log.warn(
        { cert: cert.name, err: error, failures, next_attempt_at: iso(now + wait), why },
        'acme: attempt failed',
      );
      const near = !cert.info || cert.info.notAfter - now <= this.alarmMs;
      this.notice(
        'renew-failed',
        near ? 'error' : 'warn',
        `certificate ${cert.name}: attempt ${failures} failed after ${now - started} ms (${error.message}); next in ${Math.round(wait / 1000)} s`,
        cert,
      );
      return { ok: false, error, cert: this.certStatus(cert) };
    } finally {
      for (const clear of clears)
        await clear().catch((err: unknown) =>
          this.ctx.log.warn({ cert: cert.name, err: serializeError(err) }, 'acme: dns-01 clean-up failed'),
        );
      cert.running = false;
      await this.save();
    }
  }

  /**
   * How a challenge is answered. dns-01 TXT records are removed only once the whole order has ended: a name and its
   * wildcard share one record name, and removing one authorization's value early can fail the other's validation.
   */
  private solver(cert: Cert, clears: (() => Promise<void>)[]): ChallengeSolver {
    if (cert.config.challenge === 'http-01') {
      const server = this.challenges;
      if (!server) throw new AcmeFilesFailed(`certificate ${cert.name} uses http-01 but no responder runs`);
      return {
        set: async (_name, token, value) => server.set(token, value),
        clear: async (_name, token) => server.clear(token),
      };
    }
    const hook = cert.config.hook ?? [];
    const run = this.args.runHook ?? runHookProcess;
    const timeout = this.args.hookTimeoutMs ?? 120_000;
    const output = (action: string, record: string) =>
      childOutputLog(this.ctx.log, { source: 'acme-hook', cert: cert.name, action, record }, HOOK_LINES);
    return {
      set: (name, _token, value) => runHook(hook, 'set', name, value, run, timeout, output),
      clear: async (name, _token, value) => {
        clears.push(() => runHook(hook, 'clear', name, value, run, timeout, output));
      },
    };
  }

  /** The server's ARI window for `info`, when it offers one (RFC 9773); else undefined (the fraction is used). */
  private async ariRenewal(info: CertInfo): Promise<Pick<SavedCert, 'renew_at' | 'renew_by'> | undefined> {
    try {
      const w = await fetchAriWindow(this.server, info.leafPem);
      this.ari = w !== undefined;
      if (!w) return undefined;
      return { renew_at: inWindow(w.start, w.end, this.random), renew_by: 'ari' };
    } catch (err) {
      this.ctx.log.debug({ err: serializeError(err) }, 'acme: no ARI window');
      return undefined;
    }
  }

  /**
   * Obtains a replacement first (a new key), puts it in place, and only then revokes the old certificate: the web
   * roles never serve a revoked certificate while a replacement can be had.
   */
  private async revokeAndReplace(cert: Cert, reason: AcmeRevokeReason): Promise<AcmeAttemptResult> {
    const old = cert.info;
    if (!old) throw new AcmeNoCert(`certificate ${cert.name} has not been issued: nothing to revoke`);
    const replaced = await this.attempt(cert, 'revoke-and-replace');
    if (!replaced.ok) return { ...replaced, revoked_serial: null };
    try {
      await revoke(this.server, this.saved.account_key_pem, old.leafPem, REVOKE_REASON[reason]);
    } catch (err) {
      const error = serializeError(err);
      this.notice(
        'revoke-failed',
        'warn',
        `certificate ${cert.name} serial ${old.serial}: ${error.message}`,
        cert,
      );
      return { ok: false, error, cert: this.certStatus(cert), revoked_serial: null };
    }
    this.notice(
      'revoked',
      'info',
      `certificate ${cert.name} serial ${old.serial} revoked (${reason}), replaced`,
      cert,
    );
    return { ok: true, error: null, cert: this.certStatus(cert), revoked_serial: old.serial };
  }

  private notice(event: string, level: ServiceNotice['level'], message: string, cert: Cert): void {
    this.args.notify({
      type: 'notice',
      topic: ACME_EVENT_TOPIC,
      event,
      level,
      message,
      data: { cert: cert.name, serial: cert.info?.serial ?? null, failures: cert.saved.failures },
    });
  }

  private async save(): Promise<void> {
    for (const c of this.certs) this.saved.certs[c.name] = c.saved;
    try {
      await this.ctx.state.save(this.saved);
    } catch (err) {
      this.ctx.log.warn({ err: serializeError(err) }, 'acme: could not save state');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    await this.tail;
    await this.challenges?.stop();
  }
}
const HANDLERS = AcmeActor.handlers;

function freshRecord(): SavedCert {
  return {
    serial: null,
    renew_at: null,
    renew_by: null,
    failures: 0,
    next_attempt_at: null,
    last_error: null,
    last_success_at: null,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AcmeFilesFailed(`cannot read acme.ca_file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export const acmeActor = defineActor<AcmeProtocol, AcmeArgs, AcmeSaved>({
  kind: 'acme',
  moduleUrl: import.meta.url,
  exportName: 'acmeActor',
  stateKey: () => 'acme',
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary: 'Each certificate: names, phase, serial, not-after, next renewal, failures and the last error',
    },
    deviations: {
      payload: z.null(),
      scope: 'read',
      summary: 'Certificates near expiry, expired, or failing renewal (for the system state)',
    },
    renew: {
      payload: z.strictObject({ name: z.string().min(1) }),
      scope: 'admin',
      summary: 'Renews a certificate now; answers when the attempt has ended (a failure is ok: false)',
    },
    revoke: {
      payload: z.strictObject({
        name: z.string().min(1),
        reason: z.enum(['unspecified', 'keyCompromise', 'superseded']).optional(),
      }),
      scope: 'admin',
      summary: 'Obtains a replacement (a new key), puts it in place, then revokes the old certificate',
    },
  },
  create: (args, ctx) => new AcmeActor(args, ctx).start(),
});
