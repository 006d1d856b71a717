import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent, request } from 'node:https';
import * as acme from 'acme-client';
import { AcmeRequestFailed } from './errors.ts';

/**
 * The one module that knows acme-client (RFC 8555). acme-client keeps one axios instance for the whole process and
 * retries connection errors, 5xx and 429 on it with real sleeps of up to 25 s, then hides the problem document in a
 * plain Error's message. Here its retries are turned off (the actor's own back-off decides, on its injected clock),
 * each call runs in an async context carrying its server's CA and timeout, and the last problem document and
 * `Retry-After` the server sent are kept, so a failure arrives as {@link AcmeRequestFailed} with both.
 */

export interface AcmeServer {
  directoryUrl: string;
  /** PEM of the CA certificates to trust for the server (a private CA); undefined: the system's. */
  caPem?: string;
  /** Per HTTP request. */
  timeoutMs: number;
  /** First wait when polling an authorization or an order (doubled per poll up to 16 times it). */
  pollMs: number;
}

export type ChallengeType = 'http-01' | 'dns-01';

/** Puts a challenge's answer where the server will look, and takes it away afterwards. */
export interface ChallengeSolver {
  /** `value`: for http-01 the key authorization, for dns-01 the TXT record's value. */
  set(name: string, token: string, value: string): Promise<void>;
  clear(name: string, token: string, value: string): Promise<void>;
}

export interface Issued {
  keyPem: string;
  chainPem: string;
}

interface Problem {
  status: number;
  type?: string;
  detail?: string;
}

interface CallContext {
  agent: Agent | undefined;
  timeoutMs: number;
  problem?: Problem;
  retryAfterMs?: number;
}

const calls = new AsyncLocalStorage<CallContext>();
const agents = new Map<string, Agent>();
let installed = false;

type RawResponse = {
  status: number;
  headers: unknown;
  data: unknown;
  config: { retryValidateStatus?: unknown };
};

function install(): void {
  if (installed) return;
  installed = true;
  // acme-client's response interceptor retries with real sleeps, and on a network error (no response) fails with
  // a TypeError of its own instead of the error. Ours replaces it: no retries, the network error kept.
  acme.axios.interceptors.response.clear();
  acme.axios.interceptors.request.use((config) => {
    const c = calls.getStore();
    if (c) {
      if (c.agent) config.httpsAgent = c.agent;
      if (!config.timeout) config.timeout = c.timeoutMs;
    }
    return config;
  });
  acme.axios.interceptors.response.use(undefined, (err: unknown) => {
    const resp = (err as { response?: RawResponse }).response;
    if (!resp) return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    note(resp);
    // acme-client's request interceptor routes every response here, its own check kept in retryValidateStatus.
    const valid = resp.config.retryValidateStatus;
    if (typeof valid !== 'function' || (valid as (s: number) => boolean)(resp.status)) return resp;
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  });
}

/** Keeps the problem document and `Retry-After` of an error response in the call's context. */
function note(resp: RawResponse): void {
  const c = calls.getStore();
  if (!c || resp.status < 400) return;
  const data = (resp.data ?? {}) as { type?: unknown; detail?: unknown };
  c.problem = {
    status: resp.status,
    ...(typeof data.type === 'string' && { type: data.type }),
    ...(typeof data.detail === 'string' && { detail: data.detail }),
  };
  const after = retryAfterMs((resp.headers as Record<string, unknown>)['retry-after'], Date.now());
  if (after !== undefined) c.retryAfterMs = after;
}

/** `Retry-After` (seconds or an HTTP date, RFC 9110 §10.2.3) as milliseconds from `now`; undefined if absent. */
export function retryAfterMs(header: unknown, now: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function agentFor(caPem: string | undefined): Agent | undefined {
  if (caPem === undefined) return undefined;
  let a = agents.get(caPem);
  if (!a) {
    a = new Agent({ ca: caPem, keepAlive: false });
    agents.set(caPem, a);
  }
  return a;
}

/** Runs `fn` against `server`; any failure becomes an AcmeRequestFailed naming `what` and the server's problem. */
async function withServer<T>(server: AcmeServer, what: string, fn: () => Promise<T>): Promise<T> {
  install();
  const ctx: CallContext = { agent: agentFor(server.caPem), timeoutMs: server.timeoutMs };
  try {
    return await calls.run(ctx, fn);
  } catch (err) {
    if (!(err instanceof Error) || (err as { code?: unknown }).code?.toString().startsWith('MW_ERR_'))
      throw err;
    const p = ctx.problem;
    const reason = p ? `${p.type ?? `HTTP ${p.status}`}: ${p.detail ?? err.message}` : err.message;
    throw new AcmeRequestFailed(`${what}: ${reason}`, {
      cause: err,
      details: {
        problem: p?.type ?? null,
        status: p?.status ?? null,
        retry_after_ms: ctx.retryAfterMs ?? null,
      },
    });
  }
}

function client(server: AcmeServer, accountKeyPem: string): acme.Client {
  return new acme.Client({
    directoryUrl: server.directoryUrl,
    accountKey: accountKeyPem,
    backoffAttempts: 16,
    backoffMin: server.pollMs,
    backoffMax: server.pollMs * 16,
  });
}

/**
 * Finds the account of the client's key, or registers it (agreeing to the terms). acme-client's own
 * `createAccount` turns "it exists" into an account update, which a server refuses when there is nothing to update.
 */
async function ensureAccount(c: acme.Client, email: string | undefined): Promise<void> {
  try {
    await c.createAccount({ onlyReturnExisting: true });
    return;
  } catch (err) {
    const p = calls.getStore()?.problem;
    if (p?.type !== 'urn:ietf:params:acme:error:accountDoesNotExist') throw err;
  }
  const store = calls.getStore();
  if (store) delete store.problem;
  await c.createAccount({
    termsOfServiceAgreed: true,
    ...(email !== undefined && { contact: [`mailto:${email}`] }),
  });
}

/** A new ECDSA P-256 account key (PEM). */
export async function createAccountKey(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey()).toString();
}

export interface IssueRequest {
  accountKeyPem: string;
  email: string | undefined;
  names: readonly string[];
  challenge: ChallengeType;
  solver: ChallengeSolver;
}

/**
 * Orders a certificate for `names` with a new ECDSA P-256 key, answering each authorization by `challenge`
 * through `solver`; registers the account (agreeing to the terms) first, which is a no-op when it exists.
 */
export async function issue(server: AcmeServer, r: IssueRequest): Promise<Issued> {
  const [key, csr] = await acme.crypto.createCsr(
    { commonName: r.names[0], altNames: [...r.names] },
    await acme.crypto.createPrivateEcdsaKey(),
  );
  const chain = await withServer(server, `ordering a certificate for ${r.names[0] ?? '?'}`, async () => {
    const c = client(server, r.accountKeyPem);
    await ensureAccount(c, r.email);
    return c.auto({
      csr,
      termsOfServiceAgreed: true,
      // Its own pre-check fetches http://name:80/ or asks the system's DNS; the server's validation is what counts.
      skipChallengeVerification: true,
      challengePriority: [r.challenge],
      challengeCreateFn: async (authz, challenge, value) =>
        r.solver.set(authz.identifier.value, challenge.token, value),
      challengeRemoveFn: async (authz, challenge, value) =>
        r.solver.clear(authz.identifier.value, challenge.token, value),
    });
  });
  return { keyPem: key.toString(), chainPem: chain };
}

/** RFC 5280 revocation reasons the service uses. */
export const REVOKE_REASON = { unspecified: 0, keyCompromise: 1, superseded: 4 } as const;

/** Revokes `certPem` (the leaf first in a chain) with the account that ordered it. */
export async function revoke(
  server: AcmeServer,
  accountKeyPem: string,
  certPem: string,
  reason: number,
): Promise<void> {
  await withServer(server, 'revoking a certificate', async () => {
    const c = client(server, accountKeyPem);
    await ensureAccount(c, undefined);
    await c.revokeCertificate(certPem, { reason });
  });
}

/** The directory's `renewalInfo` URL (ACME Renewal Information, RFC 9773), when the server offers it. */
export async function renewalInfoBase(server: AcmeServer): Promise<string | undefined> {
  const dir = await getJson(server, server.directoryUrl);
  const v = (dir.body as { renewalInfo?: unknown } | undefined)?.renewalInfo;
  return typeof v === 'string' ? v : undefined;
}

/** An unauthenticated GET (the directory, ARI) with the server's CA and timeout. */
export function getJson(
  server: AcmeServer,
  url: string,
): Promise<{ status: number; body: unknown; retryAfterMs: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agentFor(server.caPem), timeout: server.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        resolve({
          status: res.statusCode ?? 0,
          body,
          retryAfterMs: retryAfterMs(res.headers['retry-after'], Date.now()),
        });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${server.timeoutMs} ms`)));
    req.on('error', (err) => reject(new AcmeRequestFailed(`GET ${url}: ${err.message}`, { cause: err })));
    req.end();
  });
}
