import type { z } from 'zod';
import type {
  ActionReply,
  ActorDetails,
  ClusterView,
  LockGranted,
  LockNotGranted,
  MutexInfo,
  ReleaseOwnerReply,
  TreeNode,
} from '../api/schemas.ts';
import { ClientRequestFailed, MutexLockTimeout, responseError } from './errors.ts';
import { readSse } from './sse.ts';
import type { SseEvent } from './sse.ts';

/**
 * The typed client of the message API for scripting components (and the shell): every call has a deadline,
 * errors arrive as the matching error class (`err.code`, `err.details.status`), and a 503 — the node drains, a
 * group changes its active instance, an actor restarts — is retried until the deadline.
 */

export interface MwareClientOptions {
  /** e.g. http://127.0.0.1:7070 */
  url: string;
  token: string;
  /** Deadline of each call, retries included (default 30 s). */
  timeoutMs?: number;
  /** Backoff between retries of a 503 (default 100 ms doubling up to 2 s). */
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  /** For tests: the fetch to use. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type LockOptions = { owner: string; mode?: 'write' | 'read'; wait_ms?: number; hold_ms?: number };
export type LockResult = z.infer<typeof LockGranted> | z.infer<typeof LockNotGranted>;
export type Tree = z.infer<typeof TreeNode>;

export class MwareClient {
  readonly url: string;
  readonly mutex: MutexClient;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly fetchFn: typeof fetch;

  constructor(o: MwareClientOptions) {
    this.url = o.url.replace(/\/+$/, '');
    this.token = o.token;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.minDelay = o.retry?.minDelayMs ?? 100;
    this.maxDelay = o.retry?.maxDelayMs ?? 2_000;
    this.fetchFn = o.fetch ?? fetch;
    this.mutex = new MutexClient(this);
  }

  /** Tells an actor a message (202: accepted, not awaited). */
  async send(path: string, type: string, payload?: unknown, o?: CallOptions): Promise<void> {
    await this.request('POST', `${actorUrl(path)}/messages`, { type, payload }, o);
  }

  /** Asks an actor and returns its reply. */
  async ask<T = unknown>(path: string, type: string, payload?: unknown, o?: CallOptions): Promise<T> {
    const timeoutMs = o?.timeoutMs ?? this.timeoutMs;
    const body = { type, payload, timeout_ms: Math.max(1, timeoutMs - 100) };
    const r = await this.request<{ result: T }>('POST', `${actorUrl(path)}/messages?reply=true`, body, {
      ...o,
      timeoutMs,
    });
    return r.result;
  }

  tree(path?: string, o?: CallOptions): Promise<Tree> {
    return this.request(
      'GET',
      `/api/v1/tree${path && path !== '/' ? `?path=${encodeURIComponent(path)}` : ''}`,
      undefined,
      o,
    );
  }

  actor(path: string, o?: CallOptions): Promise<z.infer<typeof ActorDetails>> {
    return this.request('GET', actorUrl(path), undefined, o);
  }

  restart(path: string, o?: CallOptions): Promise<z.infer<typeof ActionReply>> {
    return this.request('POST', `${actorUrl(path)}/restart`, undefined, o);
  }

  stop(path: string, o?: CallOptions): Promise<z.infer<typeof ActionReply>> {
    return this.request('POST', `${actorUrl(path)}/stop`, undefined, o);
  }

  start(path: string, o?: CallOptions): Promise<z.infer<typeof ActionReply>> {
    return this.request('POST', `${actorUrl(path)}/start`, undefined, o);
  }

  cluster(o?: CallOptions): Promise<z.infer<typeof ClusterView>> {
    return this.request('GET', '/api/v1/cluster', undefined, o);
  }

  health(o?: CallOptions): Promise<{ status: string; node: string; state: string }> {
    return this.request('GET', '/healthz', undefined, o);
  }

  ready(o?: CallOptions): Promise<{ status: string; node: string; state: string }> {
    return this.request('GET', '/readyz', undefined, o);
  }

  /** Follows the inspection stream until `signal` aborts. */
  events(signal?: AbortSignal): AsyncIterable<SseEvent> {
    return this.stream('/api/v1/events', signal);
  }

  /** The node's recent log lines, then (with follow) every new one until `signal` aborts. */
  async *logs(o: { n?: number; follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<string> {
    for await (const e of this.stream(`/api/v1/logs?n=${o.n ?? 100}&follow=${o.follow === true}`, o.signal)) {
      if (e.type === 'log' && typeof e.data === 'string') yield e.data;
    }
  }

  /** One API call: JSON in and out, the deadline over every retry, 503s retried with backoff. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, o?: CallOptions): Promise<T> {
    const deadline = Date.now() + (o?.timeoutMs ?? this.timeoutMs);
    for (let delay = this.minDelay; ; delay = Math.min(delay * 2, this.maxDelay)) {
      const left = deadline - Date.now();
      const signal = o?.signal
        ? AbortSignal.any([o.signal, AbortSignal.timeout(Math.max(1, left))])
        : AbortSignal.timeout(Math.max(1, left));
      let res: Response;
      try {
        res = await this.fetchFn(this.url + path, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
          signal,
        });
      } catch (err) {
        if (o?.signal?.aborted) throw err;
        const timedOut = (err as Error).name === 'TimeoutError' || Date.now() >= deadline;
        throw new ClientRequestFailed(
          timedOut
            ? `${method} ${path}: no answer within the deadline`
            : `${method} ${path}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      const text = await res.text();
      const parsed = parseJson(text);
      if (res.ok || (res.status === 408 && path.endsWith('/lock'))) return parsed as T;
      const wait = Math.max(delay, Number(res.headers.get('retry-after') ?? 0) * 1000);
      if (res.status !== 503 || Date.now() + wait >= deadline) throw responseError(res.status, parsed);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async *stream(path: string, signal?: AbortSignal): AsyncIterable<SseEvent> {
    const res = await this.fetchFn(this.url + path, {
      headers: { authorization: `Bearer ${this.token}` },
      signal,
    });
    if (!res.ok || !res.body) throw responseError(res.status, parseJson(await res.text()));
    yield* readSse(res.body, signal);
  }
}

export class MutexClient {
  constructor(private readonly c: MwareClient) {}

  /** Granted: `{granted: true, token}`; not within wait_ms: `{granted: false, reason}`. */
  lock(key: string, o: LockOptions, call?: CallOptions): Promise<LockResult> {
    const timeoutMs = call?.timeoutMs ?? (o.wait_ms ?? 0) + 30_000;
    return this.c.request('POST', `/api/v1/mutex/${encodeURIComponent(key)}/lock`, o, { ...call, timeoutMs });
  }

  async unlock(key: string, o: { owner: string; token: number }, call?: CallOptions): Promise<void> {
    await this.c.request('POST', `/api/v1/mutex/${encodeURIComponent(key)}/unlock`, o, call);
  }

  releaseOwner(owner: string, call?: CallOptions): Promise<z.infer<typeof ReleaseOwnerReply>> {
    return this.c.request('POST', '/api/v1/mutex/release-owner', { owner }, call);
  }

  inspect(key: string, call?: CallOptions): Promise<z.infer<typeof MutexInfo>> {
    return this.c.request('GET', `/api/v1/mutex/${encodeURIComponent(key)}`, undefined, call);
  }

  async keys(call?: CallOptions): Promise<string[]> {
    return (await this.c.request<{ keys: string[] }>('GET', '/api/v1/mutex', undefined, call)).keys;
  }

  /** Runs `fn` holding the lock (given its fencing token), and releases it however `fn` ends. */
  async withLock<T>(key: string, o: LockOptions, fn: (token: number) => Promise<T>): Promise<T> {
    const r = await this.lock(key, o);
    if (!r.granted)
      throw new MutexLockTimeout(
        `mutex "${key}" was not granted to "${o.owner}" within ${o.wait_ms ?? 0} ms (${r.reason})`,
      );
    try {
      return await fn(r.token);
    } finally {
      await this.unlock(key, { owner: o.owner, token: r.token }).catch(() => undefined);
    }
  }
}

/** `/domains/test.rootdomain.ru` → `/api/v1/actors/domains/test.rootdomain.ru` (each segment encoded). */
function actorUrl(path: string): string {
  const segments = path.split('/').filter((s) => s !== '');
  return `/api/v1/actors/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
