import pg from 'pg';
import type { MwareError } from '../errors.ts';
import { scrubber } from '../redaction.ts';
import {
  PgAuthFailed,
  PgConnectionLost,
  PgQueryFailed,
  PgReadOnly,
  PgTimeout,
  PgUnavailable,
  PgUnreachable,
} from './errors.ts';

/**
 * The pg layer: clients with short deadlines on connecting and on every statement, so that a dead host (a closed
 * port, a postmaster stopped with SIGSTOP, a cut network) is an error within seconds, never a hang.
 */

export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
}

export interface PgLimits {
  /** TCP connect and PostgreSQL's start-up exchange together. */
  connectTimeoutMs: number;
  /** PostgreSQL's `statement_timeout`: the server cancels a statement running longer. */
  statementTimeoutMs: number;
  /**
   * The client's own deadline on a query: it also covers a server that stopped answering altogether (where a
   * server-side timeout never fires). A little above `statementTimeoutMs`, so a slow statement reports as one.
   */
  queryTimeoutMs: number;
}

export const DEFAULT_PG_LIMITS: PgLimits = {
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 5_000,
  queryTimeoutMs: 6_000,
};

export function pgLimits(partial: Partial<PgLimits> = {}): PgLimits {
  return { ...DEFAULT_PG_LIMITS, ...partial };
}

/** `user@host:port/database`: how messages name a server. */
export function pgEndpoint(t: PgTarget): string {
  return `${t.user}@${t.host}:${t.port}/${t.database}`;
}

/** The `pg` settings for `target` with the deadlines of `limits` (for callers that manage a client themselves). */
export function pgClientConfig(target: PgTarget, limits: PgLimits): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    ...(target.password !== undefined && { password: target.password }),
    connectionTimeoutMillis: limits.connectTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    query_timeout: limits.queryTimeoutMs,
    keepAlive: true,
    application_name: 'mware',
  };
}

/** A connected client, or the mapped error within `limits.connectTimeoutMs`. */
export async function connectPg(target: PgTarget, limits: PgLimits = DEFAULT_PG_LIMITS): Promise<pg.Client> {
  const client = new pg.Client(pgClientConfig(target, limits));
  // A connection that drops while idle emits 'error'; unhandled, it would end the process. The next query on it
  // fails with PgConnectionLost instead.
  client.on('error', () => {});
  try {
    await withDeadline(client.connect(), limits.connectTimeoutMs + 500, () => {
      destroy(client);
      return new PgTimeout(`pg ${pgEndpoint(target)}: no connection within ${limits.connectTimeoutMs} ms`, {
        details: { ...where(target), phase: 'connect', timeoutMs: limits.connectTimeoutMs },
      });
    });
    return client;
  } catch (err) {
    destroy(client);
    throw mapPgError(err, target, 'connect', limits.connectTimeoutMs);
  }
}

/**
 * Runs one statement with a deadline (`timeoutMs`, default `limits.queryTimeoutMs`). On a timeout the client is
 * destroyed (its connection may be stuck mid-protocol): open a new one for the next query.
 */
export async function queryWithDeadline<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: pg.Client,
  target: PgTarget,
  sql: string,
  params: readonly unknown[] = [],
  timeoutMs: number = DEFAULT_PG_LIMITS.queryTimeoutMs,
): Promise<pg.QueryResult<R>> {
  // pg honours a per-query `query_timeout` (pg/lib/client.js) that its type definitions do not declare.
  const query: pg.QueryConfig & { query_timeout: number } = {
    text: sql,
    values: [...params],
    query_timeout: timeoutMs,
  };
  try {
    return await withDeadline(client.query<R>(query), timeoutMs + 500, () => {
      destroy(client);
      return new PgTimeout(`pg ${pgEndpoint(target)}: no answer within ${timeoutMs} ms`, {
        details: { ...where(target), phase: 'query', timeoutMs },
      });
    });
  } catch (err) {
    const mapped = mapPgError(err, target, 'query', timeoutMs);
    if (mapped instanceof PgTimeout && mapped.details?.phase === 'query') destroy(client);
    throw mapped;
  }
}

/** Connects, runs one statement and disconnects: for probes and one-off commands. */
export async function pgQueryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(
  target: PgTarget,
  sql: string,
  params: readonly unknown[] = [],
  limits: PgLimits = DEFAULT_PG_LIMITS,
): Promise<pg.QueryResult<R>> {
  const client = await connectPg(target, limits);
  try {
    return await queryWithDeadline<R>(client, target, sql, params, limits.queryTimeoutMs);
  } finally {
    // end() waits for the server's goodbye; a server that went silent must not hold the caller.
    void withDeadline(client.end(), 1_000, () => new Error('end')).catch(() => destroy(client));
  }
}

type PgErrorLike = Error & { code?: unknown; severity?: unknown };

/** Turns what `pg` (or the socket under it) threw into one of the pg error kinds, with secrets scrubbed. */
export function mapPgError(
  err: unknown,
  target: PgTarget,
  phase: 'connect' | 'query',
  timeoutMs: number,
): MwareError {
  if (err instanceof PgTimeout) return err;
  const scrub = scrubber(target.password ? [target.password] : []);
  const e: PgErrorLike = err instanceof Error ? err : new Error(String(err));
  const message = scrub(e.message);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const base = where(target);
  const cause = Object.assign(new Error(message), code === undefined ? {} : { code });
  const at = `pg ${pgEndpoint(target)}`;
  // A SQLSTATE is five characters and comes with a severity; socket errors have errno names (ECONNREFUSED).
  const sqlstate = code !== undefined && typeof e.severity === 'string' ? code : undefined;
  if (sqlstate !== undefined) {
    const details = { ...base, sqlstate };
    if (sqlstate === '57014')
      return new PgTimeout(`${at}: statement cancelled by statement_timeout`, {
        details: { ...details, phase: 'statement' },
        cause,
      });
    if (sqlstate.startsWith('28')) return new PgAuthFailed(`${at}: ${message}`, { details, cause });
    if (['57P01', '57P02', '57P03'].includes(sqlstate))
      return new PgUnavailable(`${at}: ${message}`, { details, cause });
    if (sqlstate === '25006') return new PgReadOnly(`${at}: ${message}`, { details, cause });
    return new PgQueryFailed(`${at}: ${message}`, { details, cause });
  }
  if (
    code !== undefined &&
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
  )
    return new PgUnreachable(`${at}: ${message}`, { details: { ...base, reason: code }, cause });
  // pg's own words for its client-side deadlines (pg/lib/client.js).
  if (/timeout/i.test(e.message))
    return new PgTimeout(
      `${at}: no ${phase === 'connect' ? 'connection' : 'answer'} within ${timeoutMs} ms`,
      {
        details: { ...base, phase, timeoutMs },
        cause,
      },
    );
  if (phase === 'connect')
    return new PgUnreachable(`${at}: ${message}`, { details: { ...base, reason: code ?? 'socket' }, cause });
  return new PgConnectionLost(`${at}: ${message}`, { details: base, cause });
}

function where(t: PgTarget): Record<string, unknown> {
  return { host: t.host, port: t.port, database: t.database, user: t.user };
}

function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Closes the socket at once, without the protocol's goodbye (which a stopped server never answers). */
function destroy(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?(): void } } }).connection?.stream;
  stream?.destroy?.();
}
