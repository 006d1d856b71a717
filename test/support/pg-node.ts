import pg from 'pg';
import type { PgClusterStatus } from '../../actors/pg/protocol.ts';
import { ActorRef } from '../../src/actor-system/actor-ref.ts';
import type { MwareNode } from '../../src/node/node.ts';
import { oneNodeTopology, startInProcessNode } from './in-process-node.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';
import type { PgHostServer } from '../harness/pg-host.ts';

/**
 * An in-process mware node on the embedded default whose group runs a `pg_controller`, with its log lines and its
 * events kept for the tests to search (for secrets, say).
 */
export interface PgNode {
  node: MwareNode;
  dataDir: string;
  logLines: string[];
  events: InspectionEvent[];
  status(key: string): Promise<PgClusterStatus>;
  ask(key: string, type: string, payload: unknown, timeoutMs?: number): Promise<unknown>;
}

/** A one-node topology (embedded coordination) whose group runs `clusters` as its `pg_controller`. */
export function pgTopology(clusters: Record<string, unknown>[]): Promise<Record<string, unknown>> {
  return oneNodeTopology('pgtest', { pg_controller: clusters });
}

export async function startPgNode(dir: string, clusters: Record<string, unknown>[]): Promise<PgNode> {
  const { node, dataDir, logLines, events } = await startInProcessNode(dir, await pgTopology(clusters));
  const ask = (key: string, type: string, payload: unknown, timeoutMs = 5_000) =>
    new ActorRef(`/pg/${key}/controller`, node.directory).ask(type, payload, { timeoutMs });
  return {
    node,
    dataDir,
    logLines,
    events,
    ask,
    status: (key) => ask(key, 'status', null) as Promise<PgClusterStatus>,
  };
}

/** Polls `fn` until it returns something other than undefined/false; `describe` says what was last seen. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  describe: () => Promise<unknown> = async () => undefined,
  ms = 60_000,
): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline)
      throw new Error(
        `${what}: not within ${ms} ms; last seen ${JSON.stringify(await describe().catch(() => last))}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One statement on a host as the superuser, on a connection of its own. */
export async function sql<R extends pg.QueryResultRow>(
  h: PgHostServer,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const c = new pg.Client({ connectionString: h.url, connectionTimeoutMillis: 2_000 });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}
