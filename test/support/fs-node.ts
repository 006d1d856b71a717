import type { FarmStatus, MigrationRecord } from '../../actors/freeswitch/protocol.ts';
import { ActorRef } from '../../src/actor-system/actor-ref.ts';
import type { MwareNode } from '../../src/node/node.ts';
import { oneNodeTopology, startInProcessNode } from './in-process-node.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';
import pg from 'pg';
import { RecoveryTable } from '../../src/freeswitch/recovery-table.ts';
import { startEslSimulator } from '../harness/esl-simulator/index.ts';
import type { SimHost, SimHostOptions } from '../harness/esl-simulator/index.ts';
import type { PgServer } from '../harness/postgres.ts';
import { startPostgres } from '../harness/postgres.ts';

/**
 * An in-process mware node on the embedded default whose group runs a FreeSWITCH farm of simulated hosts, with its
 * log lines and events kept for the tests to search.
 */
export interface FsNode {
  node: MwareNode;
  dataDir: string;
  logLines: string[];
  events: InspectionEvent[];
  farm(): Promise<FarmStatus>;
  ask(path: string, type: string, payload: unknown, timeoutMs?: number): Promise<unknown>;
  /** Waits for the migration of `source` (started after `since`) to finish, and returns it in full. */
  migrationOf(source: string, since: number, timeoutMs?: number): Promise<MigrationRecord>;
}

export interface FsHostConfig {
  sim: SimHost;
  sipIp: string;
  mediaIp: string;
  profiles: string[];
}

export async function fsTopology(
  db: { host: string; port: number; database: string; user: string },
  hosts: FsHostConfig[],
  failover: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return oneNodeTopology('fstest', {
    freeswitch: {
      recovery_db: db,
      failover: { confirm_ms: 500, reinvite_window_ms: 1_000, ...failover },
      probe_ms: 200,
      hosts: hosts.map((h) => ({
        name: h.sim.name,
        esl_host: '127.0.0.1',
        esl_port: h.sim.eslPort,
        esl_password: 'ClueCon',
        switchname: h.sim.switchname,
        sip_ip: h.sipIp,
        media_ip: h.mediaIp,
        profiles: h.profiles,
      })),
    },
  });
}

export async function startFsNode(dir: string, topology: Record<string, unknown>): Promise<FsNode> {
  const { node, dataDir, logLines, events } = await startInProcessNode(dir, topology);
  const ask = (path: string, type: string, payload: unknown, timeoutMs = 5_000): Promise<unknown> =>
    new ActorRef(path, node.directory).ask(type, payload, { timeoutMs });
  const farm = (): Promise<FarmStatus> => ask('/freeswitch/migrator', 'status', null) as Promise<FarmStatus>;
  return {
    node,
    dataDir,
    logLines,
    events,
    ask,
    farm,
    migrationOf: async (source, since, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await farm();
        const done = [...s.recent].reverse().find((m) => m.source === source && m.started_at >= since);
        if (done) return (await ask('/freeswitch/migrator', 'migration', { id: done.id })) as MigrationRecord;
        if (Date.now() > deadline)
          throw new Error(
            `no finished migration of ${source}; active: ${JSON.stringify(s.active?.phase ?? null)}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** A farm of simulated FreeSWITCH hosts on one real PostgreSQL, prepared as production would be. */
export interface SimFarm {
  server: PgServer;
  /** A superuser connection (the tests' window on the table). */
  admin: pg.Client;
  sims: Record<string, SimHost>;
  /** `recovery_db` for the topology: mware connects as the superuser (it owns the table). */
  db: { host: string; port: number; database: string; user: string };
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL, the hosts' plain role `fs`, the recovery table with its fencing installed before the hosts start
 * (PostgreSQL 15 lets no plain role create in `public`), then one simulator per host, each connecting as `fs` with
 * its switchname (`freeswitch<NN>` for `fsNN`) as application_name.
 */
export async function startSimFarm(
  name: string,
  hosts: { name: string; ip: string; profiles?: string[] }[],
  options: Partial<SimHostOptions> = {},
): Promise<SimFarm> {
  const server = await startPostgres({ name });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE ROLE fs LOGIN');
  await new RecoveryTable(admin).install();
  const sims: Record<string, SimHost> = {};
  for (const h of hosts)
    sims[h.name] = await startEslSimulator({
      name: h.name,
      switchname: `freeswitch${h.name.slice(2)}`,
      addresses: [h.ip],
      sipIp: h.ip,
      mediaIp: h.ip,
      profiles: h.profiles ?? ['internal'],
      db: { connectionString: `postgres://fs@${server.host}:${server.port}/postgres` },
      ...options,
    });
  return {
    server,
    admin,
    sims,
    db: { host: server.host, port: server.port, database: 'postgres', user: 'postgres' },
    stop: async () => {
      for (const s of Object.values(sims)) await s.stop();
      await admin.end();
      await server.stop();
    },
  };
}
