import pg from 'pg';

/**
 * The measurement client of the PostgreSQL failover benchmark, the same for every subject (./subject.ts).
 *
 * One writer loop per candidate endpoint, each on its own connection (re-opened after any error, with a short
 * connect timeout): `INSERT` a numbered row of this trial, pause, again. Before the failure the loops run until
 * the primary has committed `minWritesBefore` rows (and no other server accepted one); the kill instant is
 * `performance.now()` right before the subject's trigger is called; the figure is the time from it to the first
 * commit acknowledged by any server on a connection opened after it (see `isAfter` below). The loops keep writing
 * for `holdMs` after that first commit, then:
 * - no lost write: every row acknowledged (before the kill and after it) is read back from the server that
 *   committed the last one;
 * - no false promotion: after the kill every acknowledged write came from one server only (two servers accepting
 *   writes during a trial — at once or one after the other — is reported with the times of their commits); before
 *   the kill, only the primary may accept one.
 */

export interface ClientOptions {
  endpoints: readonly string[];
  user?: string;
  password?: string;
  database?: string;
  /** TCP connect + start-up exchange (default 300 ms). */
  connectTimeoutMs?: number;
  /** Client-side deadline on each INSERT (default 1,000 ms). */
  queryTimeoutMs?: number;
  /** Pause between two attempts of one loop (default 25 ms). */
  pauseMs?: number;
  /** Commits on the primary before the failure is injected (default 10). */
  minWritesBefore?: number;
  /** How long the loops keep writing after the first commit following the kill (default 3,000 ms). */
  holdMs?: number;
  /** Give up when nothing commits this long after the kill (default 120 s). */
  giveUpMs?: number;
}

export interface Commit {
  endpoint: string;
  n: number;
  /** performance.now() when its connection began to be opened, when the INSERT was sent, when it was acknowledged. */
  connectedAt: number;
  sentAt: number;
  at: number;
}

export interface TrialResult {
  /** Kill instant → first acknowledged commit, ms; NaN when nothing committed within `giveUpMs`. */
  ms: number;
  /** The primary before the failure and the server of the first commit after it. */
  before: string;
  after: string | undefined;
  writesBefore: number;
  writesAfter: number;
  /** Writes the old primary acknowledged on a connection opened before the kill, for an INSERT sent after it. */
  late: number;
  /** Acknowledged rows missing from the server of the last commit. */
  lost: number;
  /** Servers that accepted a write after the kill (a correct trial has exactly one). */
  writers: string[];
  /** Human-readable violations: lost writes, two writers, a standby accepting writes before the kill. */
  violations: string[];
}

const TABLE = 'pg_failover_bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function hostPort(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

function clientFor(endpoint: string, o: ClientOptions): pg.Client {
  const c = new pg.Client({
    ...hostPort(endpoint),
    user: o.user ?? 'postgres',
    password: o.password,
    database: o.database ?? 'postgres',
    connectionTimeoutMillis: o.connectTimeoutMs ?? 300,
    query_timeout: o.queryTimeoutMs ?? 1_000,
  });
  c.on('error', () => undefined); // a dropped connection is seen by the next query
  return c;
}

function drop(c: pg.Client): void {
  c.end().catch(() => undefined);
}

/** One query on a fresh connection (for set-up and checks, not on the measured path). */
export async function queryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(
  endpoint: string,
  sql: string,
  params: unknown[] = [],
  o: Omit<ClientOptions, 'endpoints'> = {},
): Promise<pg.QueryResult<R>> {
  const c = clientFor(endpoint, {
    endpoints: [],
    connectTimeoutMs: 2_000,
    queryTimeoutMs: 5_000,
    ...o,
  });
  try {
    await c.connect();
    return await c.query<R>(sql, params);
  } finally {
    drop(c);
  }
}

/**
 * Waits until one endpoint is a primary with a standby streaming from it and every other endpoint is in
 * recovery; returns the primary. Subjects can use it to tell that their pair is healthy.
 */
export async function waitHealthyPair(
  endpoints: readonly string[],
  timeoutMs: number,
  o: Omit<ClientOptions, 'endpoints'> = {},
): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const roles = await Promise.all(
        endpoints.map(async (e) => {
          const r = await queryOnce<{ rec: boolean }>(e, 'SELECT pg_is_in_recovery() AS rec', [], o);
          return { e, standby: r.rows[0]?.rec === true };
        }),
      );
      const primaries = roles.filter((r) => !r.standby).map((r) => r.e);
      if (primaries.length === 1 && primaries[0] !== undefined) {
        const p = primaries[0];
        const s = await queryOnce<{ n: string }>(
          p,
          "SELECT count(*) AS n FROM pg_stat_replication WHERE state = 'streaming'",
          [],
          o,
        );
        if (Number(s.rows[0]?.n) >= endpoints.length - 1) return p;
        last = `primary ${p}, ${s.rows[0]?.n ?? 0} streaming standby(s)`;
      } else last = `${primaries.length} primaries`;
    } catch (e) {
      last = String(e);
    }
    if (performance.now() > deadline)
      throw new Error(`no healthy pair on ${endpoints.join(', ')} within ${timeoutMs} ms: ${last}`);
    await sleep(200);
  }
}

/**
 * One trial: confirm writes on `primary`, inject the failure with `trigger` (synchronous), measure the time to
 * the first commit after it, and check that nothing committed was lost and that only one server took writes.
 */
export async function failoverTrial(
  o: ClientOptions,
  primary: string,
  trigger: () => void,
): Promise<TrialResult> {
  const pauseMs = o.pauseMs ?? 25;
  const holdMs = o.holdMs ?? 3_000;
  const giveUpMs = o.giveUpMs ?? 120_000;
  const trial = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const violations: string[] = [];
  await queryOnce(
    primary,
    `CREATE TABLE IF NOT EXISTS ${TABLE} (trial text NOT NULL, n int NOT NULL, endpoint text NOT NULL,
       at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (trial, n))`,
    [],
    o,
  );

  const commits: Commit[] = [];
  let next = 0;
  let stop = false;
  let killedAt = Infinity;
  const loop = async (endpoint: string) => {
    let c: pg.Client | undefined;
    let connectedAt = NaN;
    while (!stop) {
      const n = ++next;
      try {
        if (!c) {
          connectedAt = performance.now();
          c = clientFor(endpoint, o);
          await c.connect();
        }
        const sentAt = performance.now();
        await c.query(`INSERT INTO ${TABLE} (trial, n, endpoint) VALUES ($1, $2, $3)`, [trial, n, endpoint]);
        commits.push({ endpoint, n, connectedAt, sentAt, at: performance.now() });
      } catch {
        // refused, timed out, read-only, connection lost: a new connection next time
        if (c) drop(c);
        c = undefined;
      }
      await sleep(pauseMs);
    }
    if (c) drop(c);
  };
  const loops = Promise.all(o.endpoints.map((e) => loop(e)));

  try {
    // Before the failure: writes work on the primary, and only there.
    const confirmBy = performance.now() + 10_000;
    while (commits.length < (o.minWritesBefore ?? 10)) {
      if (performance.now() > confirmBy)
        throw new Error(`only ${commits.length} writes committed on ${primary} in 10 s before the failure`);
      await sleep(pauseMs);
    }
    killedAt = performance.now();
    trigger();
    // Only a write on a connection opened after the kill counts as one after the failure. On a connection opened
    // before it, the old primary may still acknowledge an INSERT in flight at the kill instant, or even one sent
    // just after it (a backend of a SIGKILLed postmaster runs until it notices, about a millisecond): such a
    // write is a "late" one of the old primary — it must not be lost, it is not the failover.
    const isAfter = (c: Commit) => c.connectedAt > killedAt;

    // After it: the first commit anywhere, then keep writing for holdMs.
    let first: Commit | undefined;
    while (!first) {
      first = commits.find(isAfter);
      if (first) break;
      if (performance.now() - killedAt > giveUpMs) break;
      await sleep(5);
    }
    if (first) await sleep(holdMs);
    stop = true;
    await loops;

    const before = commits.filter((c) => !isAfter(c));
    const strays = [...new Set(before.filter((c) => c.endpoint !== primary).map((c) => c.endpoint))];
    if (strays.length > 0)
      violations.push(`before the failure, ${strays.join(', ')} (not the primary) accepted writes`);
    const late = before.filter((c) => c.sentAt > killedAt).length;
    const after = commits.filter(isAfter);
    const writers = [...new Set(after.map((c) => c.endpoint))];
    if (writers.length > 1) {
      const span = (e: string) => {
        const ats = after.filter((c) => c.endpoint === e).map((c) => c.at - killedAt);
        return `${e} ${ats.length} commits at ${Math.round(Math.min(...ats))}–${Math.round(Math.max(...ats))} ms`;
      };
      violations.push(`two servers accepted writes after the failure: ${writers.map(span).join('; ')}`);
    }
    let lost = 0;
    const last = after[after.length - 1]; // nothing to read back from when nothing committed after the kill
    if (last) {
      const readBy = performance.now() + 10_000;
      let r: pg.QueryResult<{ n: number }> | undefined;
      while (!r)
        try {
          r = await queryOnce<{ n: number }>(
            last.endpoint,
            `SELECT n FROM ${TABLE} WHERE trial = $1`,
            [trial],
            o,
          );
        } catch (e) {
          if (performance.now() > readBy)
            throw new Error(`reading the trial's rows back from ${last.endpoint}: ${String(e)}`, {
              cause: e,
            });
          await sleep(200);
        }
      const present = new Set(r.rows.map((row) => row.n));
      const missing = commits.filter((c) => !present.has(c.n));
      lost = missing.length;
      if (lost > 0)
        violations.push(
          `${lost} acknowledged writes missing on ${last.endpoint}: ${missing
            .slice(0, 5)
            .map((c) => `#${c.n} on ${c.endpoint} at ${Math.round(c.at - killedAt)} ms`)
            .join(', ')}`,
        );
    }
    return {
      ms: first ? first.at - killedAt : NaN,
      before: primary,
      after: first?.endpoint,
      writesBefore: before.length,
      writesAfter: after.length,
      late,
      lost,
      writers,
      violations,
    };
  } finally {
    stop = true;
    await loops;
  }
}
