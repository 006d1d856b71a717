import type pg from 'pg';
import type { PgLimits, PgTarget } from './db.ts';
import { DEFAULT_PG_LIMITS, connectPg, queryWithDeadline } from './db.ts';
import { PgConnectionLost, PgReadOnly, PgTimeout, PgUnavailable, PgUnreachable } from './errors.ts';

/**
 * A connection that follows a replicated cluster's primary (04-postgres.md "Everyone follows the primary"): it asks
 * `resolve` where the primary is — the controller's published record — and, when a statement fails because the
 * server went away or became a standby, drops the connection, asks again and retries until `retryMs` has passed.
 * A statement that failed after it may have committed is not retried: its error is the caller's.
 */
export class PrimaryFollower {
  private client: pg.Client | undefined;
  private current: PgTarget | undefined;
  /** How many times it connected (to a new primary, or again). */
  connects = 0;

  constructor(
    private readonly resolve: () => Promise<PgTarget | null>,
    private readonly opts: { retryMs: number; pauseMs?: number; limits?: PgLimits } = { retryMs: 30_000 },
  ) {}

  /** The server the connection is on now. */
  get target(): PgTarget | undefined {
    return this.current;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    const deadline = performance.now() + this.opts.retryMs;
    const limits = this.opts.limits ?? DEFAULT_PG_LIMITS;
    for (;;) {
      let sent = false;
      try {
        const client = await this.connection(limits);
        sent = true;
        return await queryWithDeadline<R>(
          client,
          this.current as PgTarget,
          sql,
          params,
          limits.queryTimeoutMs,
        );
      } catch (err) {
        this.drop();
        // Refused before it ran (no connection, read-only, starting): safe to send again elsewhere.
        const retry = !sent || err instanceof PgReadOnly || err instanceof PgUnavailable;
        if (!retry || !isFailover(err) || performance.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, this.opts.pauseMs ?? 50));
      }
    }
  }

  close(): void {
    this.drop();
  }

  private async connection(limits: PgLimits): Promise<pg.Client> {
    if (this.client) return this.client;
    const target = await this.resolve();
    if (!target)
      throw new PgUnreachable('no primary is published for this cluster', {
        details: { reason: 'no-primary' },
      });
    this.client = await connectPg(target, limits);
    this.current = target;
    this.connects++;
    return this.client;
  }

  private drop(): void {
    const c = this.client;
    this.client = undefined;
    if (c) void c.end().catch(() => undefined);
  }
}

function isFailover(err: unknown): boolean {
  return (
    err instanceof PgUnreachable ||
    err instanceof PgTimeout ||
    err instanceof PgConnectionLost ||
    err instanceof PgReadOnly ||
    err instanceof PgUnavailable
  );
}
