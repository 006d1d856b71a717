import type { z } from 'zod';
import type { RunRecord } from '../../actors/svctasks/ledger.ts';
import type { TaskDetail, TaskView } from '../../actors/svctasks/protocol.ts';
import type { Protocol, PublicProtocol } from '../actor-system/kind.ts';
import type { SystemState } from '../monitor/schemas.ts';
import type {
  ActionReply,
  ActorDetails,
  ClusterTree,
  ClusterView,
  NodeStats,
  LockGranted,
  LockNotGranted,
  MutexInfo,
  ReleaseOwnerReply,
  TreeNode,
} from '../api/schemas.ts';
import type {
  BackupRunReportSchema,
  BackupStatusSchema,
  PgClusterList,
  PgClusterStatusSchema,
  PgSwitchoverBody,
  PgSwitchoverReplySchema,
} from '../api/controller-schemas.ts';
import type {
  FarmStatusSchema,
  FsCallsSchema,
  FsMigrationListSchema,
  FsMoveBody,
  FsMoveReplySchema,
  MigrationRecordSchema,
} from '../api/freeswitch-schemas.ts';
import type { ChannelOutcome } from './channel.ts';
import { ScriptChannelClient } from './channel.ts';
import { ClientRequestFailed, MutexLockTimeout, responseError } from './errors.ts';
import { readSse } from './sse.ts';
import type { SseEvent } from './sse.ts';

/**
 * The typed client of the message API for scripting components (and the shell): every call has a deadline,
 * errors arrive as the matching error class (`err.code`, `err.details.status`), and a request that certainly did
 * not reach an actor — the node drains or is not active yet, the group changes its active instance, the node
 * refuses the connection — is retried until the deadline, on the next of the group's instances when given several.
 * A request that may have been handled (the actor stopped or crashed while answering) is never sent twice.
 */

/** 503 codes that mean the request was refused before any actor saw it, so sending it again is safe. */
const NOT_DELIVERED = new Set(['MW_ERR_DRAINING', 'MW_ERR_NOT_READY', 'MW_ERR_MUTEX_UNAVAILABLE']);

export interface MwareClientOptions {
  /** e.g. http://127.0.0.1:7070, or every instance of the group (tried in turn when one is unavailable). */
  url: string | readonly string[];
  token: string;
  /** Deadline of each call, retries included (default 30 s). */
  timeoutMs?: number;
  /** Backoff between retries (default 100 ms doubling up to 2 s). */
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  /**
   * Told before each wait for a retry (a command line shows it, so a wait for a node that is not there is not
   * silent): why the call is retried, where it went, the retry's number in this call (from 1), how long until the
   * next try and until the deadline.
   */
  onRetry?: (r: { url: string; reason: string; retry: number; nextInMs: number; leftMs: number }) => void;
  /**
   * Send messages and mutex operations over one persistent script channel per node, pipelined (default: true,
   * unless a `fetch` is given); HTTP is used when a node has no channel, and always for everything else.
   */
  channel?: boolean;
  /** For tests: the fetch to use. */
  fetch?: typeof fetch;
}

/** A request as the script channel carries it; built per attempt from the ms left, like an HTTP body. */
type FrameOf = (leftMs: number) => Record<string, unknown>;

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type LockOptions = { owner: string; mode?: 'write' | 'read'; wait_ms?: number; hold_ms?: number };
export type LockResult = z.infer<typeof LockGranted> | z.infer<typeof LockNotGranted>;
export type Tree = z.infer<typeof TreeNode>;

/** Calls to one actor, typed by its public protocol: a message without a payload takes none. */
export interface TypedActor<P extends Protocol> {
  ask<T extends keyof P & string>(type: T, ...args: PayloadArgs<P[T]['request']>): Promise<P[T]['reply']>;
  send<T extends keyof P & string>(type: T, ...args: PayloadArgs<P[T]['request']>): Promise<void>;
}
type PayloadArgs<R> = [R] extends [null] ? [payload?: null, o?: CallOptions] : [payload: R, o?: CallOptions];

export class MwareClient {
  readonly urls: readonly string[];
  readonly mutex: MutexClient;
  /** The instance calls go to now (the last one that answered). */
  private current = 0;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly fetchFn: typeof fetch;
  private readonly onRetry: MwareClientOptions['onRetry'];
  /** The script channel to each node, by URL (when enabled). */
  private readonly channels: Map<string, ScriptChannelClient> | undefined;

  constructor(o: MwareClientOptions) {
    this.urls = (typeof o.url === 'string' ? [o.url] : o.url).map((u) => u.replace(/\/+$/, ''));
    if (this.urls.length === 0) throw new TypeError('MwareClient needs at least one url');
    this.token = o.token;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.minDelay = o.retry?.minDelayMs ?? 100;
    this.maxDelay = o.retry?.maxDelayMs ?? 2_000;
    this.fetchFn = o.fetch ?? fetch;
    this.onRetry = o.onRetry;
    this.channels = (o.channel ?? o.fetch === undefined) ? new Map() : undefined;
    this.mutex = new MutexClient(this);
  }

  /** Closes the script channels (they do not keep the process alive while idle, so this is optional). */
  close(): void {
    for (const c of this.channels?.values() ?? []) c.close();
    this.channels?.clear();
  }

  /** Tells an actor a message (202: accepted, not awaited). */
  async send(path: string, type: string, payload?: unknown, o?: CallOptions): Promise<void> {
    await this.request('POST', `${actorUrl(path)}/messages`, { type, payload }, o, [], () => ({
      op: 'send',
      path: actorPath(path),
      type,
      payload,
    }));
  }

  /** Asks an actor and returns its reply. */
  async ask<T = unknown>(path: string, type: string, payload?: unknown, o?: CallOptions): Promise<T> {
    // The node's deadline is what this call has left at each attempt, so it gives up (504) before the client.
    const body = (leftMs: number) => ({ type, payload, timeout_ms: Math.max(1, leftMs - 100) });
    const r = await this.request<{ result: T }>(
      'POST',
      `${actorUrl(path)}/messages?reply=true`,
      body,
      o,
      [],
      (left) => ({ op: 'ask', path: actorPath(path), ...body(left) }),
    );
    return r.result;
  }

  /**
   * A typed handle on the actor at `path`, for the public part of its kind's protocol (the protocols are exported
   * by `mware/client`: `mw.to<DomainMessages>('/domains/x').ask('info')` is typed by what a domain answers).
   */
  to<P extends Protocol>(path: string): TypedActor<PublicProtocol<P>> {
    return {
      ask: (type, ...[payload, o]) => this.ask(path, type, payload, o),
      send: (type, ...[payload, o]) => this.send(path, type, payload, o),
    };
  }

  /** The instance calls go to now. */
  get url(): string {
    return this.urls[this.current] as string;
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

  /** Every node of the cluster, each with its group, role and tree (or why it did not answer). */
  clusterTree(o?: CallOptions): Promise<z.infer<typeof ClusterTree>> {
    return this.request('GET', '/api/v1/tree?scope=cluster', undefined, o);
  }

  /** The node's running totals (messages, restarts, mailbox depth, leadership changes). */
  stats(o?: CallOptions): Promise<z.infer<typeof NodeStats>> {
    return this.request('GET', '/api/v1/stats', undefined, o);
  }

  cluster(o?: CallOptions): Promise<z.infer<typeof ClusterView>> {
    return this.request('GET', '/api/v1/cluster', undefined, o);
  }

  /** Every replicated cluster of the PostgreSQL controller: phase, primary, servers and lag, history. */
  pg(o?: CallOptions): Promise<z.infer<typeof PgClusterList>> {
    return this.request('GET', '/api/v1/pg', undefined, o);
  }

  pgCluster(key: string, o?: CallOptions): Promise<z.infer<typeof PgClusterStatusSchema>> {
    return this.request('GET', `/api/v1/pg/${encodeURIComponent(key)}`, undefined, o);
  }

  /** A planned switchover to `server`; answers once it has ended (admin). */
  pgSwitchover(
    key: string,
    body: z.infer<typeof PgSwitchoverBody>,
    o?: CallOptions,
  ): Promise<z.infer<typeof PgSwitchoverReplySchema>> {
    return this.request('POST', `/api/v1/pg/${encodeURIComponent(key)}/switchover`, body, {
      timeoutMs: 300_000,
      ...o,
    });
  }

  /** The system state: every node's deviations (empty = healthy), the nodes and whether they answered. */
  systemState(o?: CallOptions): Promise<SystemState> {
    return this.request('GET', '/api/monitor/v1/system/state', undefined, o);
  }

  /** The backup controller: phase, schedule, last run, next attempt, age of the last good backup. */
  backup(o?: CallOptions): Promise<z.infer<typeof BackupStatusSchema>> {
    return this.request('GET', '/api/v1/backup', undefined, o);
  }

  /** Runs a backup now; answers with its report once it has ended (admin). */
  backupRunNow(o?: CallOptions): Promise<z.infer<typeof BackupRunReportSchema>> {
    return this.request('POST', '/api/v1/backup/run-now', undefined, { timeoutMs: 300_000, ...o });
  }

  /** A domain's service tasks: definition (without code), next firing, runs under way, last run. */
  tasks(domain: string, o?: CallOptions): Promise<{ tasks: TaskView[] }> {
    return this.request('GET', `/api/v1/tasks/${encodeURIComponent(domain)}`, undefined, o);
  }

  /** One task with its code and last runs. */
  task(domain: string, id: string, o?: CallOptions): Promise<TaskDetail> {
    return this.request(
      'GET',
      `/api/v1/tasks/${encodeURIComponent(domain)}/${encodeURIComponent(id)}`,
      undefined,
      o,
    );
  }

  /** Creates or replaces an API task (admin). */
  putTask(domain: string, task: Record<string, unknown>, o?: CallOptions): Promise<TaskView> {
    return this.request('POST', `/api/v1/tasks/${encodeURIComponent(domain)}`, task, o);
  }

  /** Deletes an API task (admin). */
  deleteTask(domain: string, id: string, o?: CallOptions): Promise<{ deleted: string }> {
    return this.request(
      'DELETE',
      `/api/v1/tasks/${encodeURIComponent(domain)}/${encodeURIComponent(id)}`,
      undefined,
      o,
    );
  }

  /** Fires a task now; answers with its runs once they have ended (admin). */
  runTaskNow(domain: string, id: string, o?: CallOptions): Promise<{ runs: RunRecord[] }> {
    return this.request(
      'POST',
      `/api/v1/tasks/${encodeURIComponent(domain)}/${encodeURIComponent(id)}/run-now`,
      undefined,
      { timeoutMs: 300_000, ...o },
    );
  }

  /** The FreeSWITCH farm: hosts, the migration in progress, recent ones. */
  freeswitch(o?: CallOptions): Promise<z.infer<typeof FarmStatusSchema>> {
    return this.request('GET', '/api/v1/freeswitch', undefined, o);
  }

  /** The live channels of every host of the farm, or of `host`. */
  freeswitchCalls(host?: string, o?: CallOptions): Promise<z.infer<typeof FsCallsSchema>> {
    const q = host === undefined ? '' : `?host=${encodeURIComponent(host)}`;
    return this.request('GET', `/api/v1/freeswitch/calls${q}`, undefined, o);
  }

  /**
   * Starts moving the calls of `host` (`migrate`: the host runs on; `drain`: paused, then stopped without BYE);
   * answers with the migration's id at once (admin).
   */
  freeswitchMove(
    verb: 'migrate' | 'drain',
    host: string,
    body: z.infer<typeof FsMoveBody> = {},
    o?: CallOptions,
  ): Promise<z.infer<typeof FsMoveReplySchema>> {
    return this.request('POST', `/api/v1/freeswitch/hosts/${encodeURIComponent(host)}/${verb}`, body, o);
  }

  /** The migration in progress and the recent ones, in counts. */
  freeswitchMigrations(o?: CallOptions): Promise<z.infer<typeof FsMigrationListSchema>> {
    return this.request('GET', '/api/v1/freeswitch/migrations', undefined, o);
  }

  /** One migration, call by call, as it stands now. */
  freeswitchMigration(id: string, o?: CallOptions): Promise<z.infer<typeof MigrationRecordSchema>> {
    return this.request('GET', `/api/v1/freeswitch/migrations/${encodeURIComponent(id)}`, undefined, o);
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

  /**
   * One API call: JSON in and out (`body` may be built per attempt from the ms left), the deadline over every
   * retry. `accept` lists error statuses that are answers, not failures (a lock not granted in time: 408). With
   * `frame`, the call goes over the node's script channel when it has one.
   */
  async request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    o?: CallOptions,
    accept: readonly number[] = [],
    frame?: FrameOf,
  ): Promise<T> {
    const deadline = Date.now() + (o?.timeoutMs ?? this.timeoutMs);
    for (let delay = this.minDelay, retry = 1; ; delay = Math.min(delay * 2, this.maxDelay), retry++) {
      const left = Math.max(1, deadline - Date.now());
      const channel = frame && this.channelTo(this.url);
      let out = channel ? await channel.call(frame(left), left, o?.signal) : undefined;
      if (out?.kind === 'lost') {
        if (o?.signal?.aborted) throw o.signal.reason;
        throw new ClientRequestFailed(`${method} ${path}: ${out.error.message}`, { cause: out.error });
      }
      if (out === undefined || out.kind === 'fallback')
        out = await this.overHttp(method, path, body, left, o);
      let wait = delay;
      if (out.kind === 'answer') {
        if ((out.status >= 200 && out.status < 300) || accept.includes(out.status)) return out.body as T;
        wait = Math.max(delay, out.retryAfterMs);
        if (out.status !== 503 || !notDelivered(out.body) || Date.now() + wait >= deadline)
          throw responseError(out.status, out.body);
      } else if (Date.now() + wait >= deadline) {
        throw new ClientRequestFailed(`${method} ${path}: ${out.error.message}`, { cause: out.error });
      }
      // Another instance of the group may be the active one now: each is tried at once, then a round waits.
      const url = this.url;
      this.current = (this.current + 1) % this.urls.length;
      const pause = this.urls.length > 1 && this.current !== 0 ? 0 : wait;
      this.onRetry?.({
        url,
        reason: out.kind === 'answer' ? String(errorCodeOf(out.body) ?? out.status) : out.error.message,
        retry,
        nextInMs: pause,
        leftMs: Math.max(0, deadline - Date.now()),
      });
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** One attempt over HTTP, as a channel outcome: an answer, or refused (nothing listens there). */
  private async overHttp(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    left: number,
    o?: CallOptions,
  ): Promise<ChannelOutcome> {
    const timeout = AbortSignal.timeout(left);
    const signal = o?.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    const json = typeof body === 'function' ? (body as (ms: number) => unknown)(left) : body;
    let res: Response;
    try {
      res = await this.fetchFn(this.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: json !== undefined ? JSON.stringify(json) : undefined,
        signal,
      });
    } catch (err) {
      if (o?.signal?.aborted) throw err;
      if (timeout.aborted || !connectionRefused(err))
        throw new ClientRequestFailed(
          timeout.aborted
            ? `${method} ${path}: no answer within the deadline`
            : `${method} ${path}: ${(err as Error).message}`,
          { cause: err },
        );
      return { kind: 'refused', error: err as Error };
    }
    return {
      kind: 'answer',
      status: res.status,
      body: parseJson(await res.text()),
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
    };
  }

  private channelTo(url: string): ScriptChannelClient | undefined {
    if (!this.channels) return undefined;
    let c = this.channels.get(url);
    if (!c) this.channels.set(url, (c = new ScriptChannelClient(url, this.token)));
    return c;
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
    return this.c.request(
      'POST',
      `/api/v1/mutex/${encodeURIComponent(key)}/lock`,
      o,
      { ...call, timeoutMs },
      [408],
      () => ({ op: 'lock', key, body: o }),
    );
  }

  async unlock(key: string, o: { owner: string; token: number }, call?: CallOptions): Promise<void> {
    await this.c.request('POST', `/api/v1/mutex/${encodeURIComponent(key)}/unlock`, o, call, [], () => ({
      op: 'unlock',
      key,
      body: o,
    }));
  }

  releaseOwner(owner: string, call?: CallOptions): Promise<z.infer<typeof ReleaseOwnerReply>> {
    return this.c.request('POST', '/api/v1/mutex/release-owner', { owner }, call, [], () => ({
      op: 'release-owner',
      body: { owner },
    }));
  }

  inspect(key: string, call?: CallOptions): Promise<z.infer<typeof MutexInfo>> {
    return this.c.request('GET', `/api/v1/mutex/${encodeURIComponent(key)}`, undefined, call, [], () => ({
      op: 'inspect',
      key,
    }));
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

/** `domains/x/` → `/domains/x`: the path as the script channel takes it. */
function actorPath(path: string): string {
  return (
    '/' +
    path
      .split('/')
      .filter((s) => s !== '')
      .join('/')
  );
}

/** The request never reached a node (nothing listens there now): safe to send again. */
function connectionRefused(err: unknown): boolean {
  const code = ((err as { cause?: { code?: unknown } }).cause ?? {}).code;
  return code === 'ECONNREFUSED';
}

/** A 503 of ours with a code that says no actor saw the request, or one without our body (a closing server). */
function errorCodeOf(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

function notDelivered(body: unknown): boolean {
  const code = errorCodeOf(body);
  return code === undefined || NOT_DELIVERED.has(code);
}

/** `Retry-After` in seconds or as an HTTP date; 0 when absent or unreadable. */
function retryAfterMs(value: string | null): number {
  if (value === null) return 0;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.min(ms, 60_000)) : 0;
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
