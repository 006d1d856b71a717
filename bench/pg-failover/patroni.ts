import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PG_BIN } from '../../test/harness/binaries.ts';
import { postgresUser } from '../../test/harness/postgres.ts';
import { ManagedProcess } from '../../test/harness/process.ts';
import { freePort } from '../../test/harness/ports.ts';
import { tempDir } from '../../test/harness/temp.ts';
import { childrenOf } from '../../test/harness/pids.ts';
import { waitHealthyPair } from './client.ts';
import type { FailoverSubject, FailureKind } from './subject.ts';

/**
 * The Patroni side of the PostgreSQL failover benchmark: a PostgreSQL 15 pair managed by Debian's Patroni 3.0
 * (two agents) with a single-node etcd 3.4 as the DCS (Patroni's `etcd3` API), everything on 127.0.0.1 and free
 * ports, in temporary directories owned by the `postgres` system user (PostgreSQL and Patroni run as that user).
 *
 * Each trial gets a fresh pair (a new Patroni scope in the same etcd, fresh data directories: about 10 s), so
 * every trial starts from the same state — n1 or n2 leader, the other streaming — and none depends on Patroni
 * rejoining the old leader. The failures:
 * - `postmaster-kill`: SIGKILL to the leader's postmaster only; its Patroni agent keeps running (with the default
 *   primary_start_timeout it restarts PostgreSQL in place, with 0 it fails over);
 * - `host-lost`: SIGKILL at once to the leader's Patroni agent, its postmaster and every child of the postmaster;
 *   etcd (the DCS, "on another host") stays up, so the replica's agent takes over once the leader key expires.
 */

export interface PatroniTimeouts {
  ttl: number;
  loop_wait: number;
  retry_timeout: number;
  primary_start_timeout: number;
}

/** Patroni's defaults (docs: "Dynamic Configuration Settings"). */
export const PATRONI_DEFAULTS: PatroniTimeouts = {
  ttl: 30,
  loop_wait: 10,
  retry_timeout: 10,
  primary_start_timeout: 300,
};

/** The tightest the documentation allows: ttl ≥ 20, loop_wait ≥ 1, retry_timeout ≥ 3, primary_start_timeout 0. */
export const PATRONI_TUNED: PatroniTimeouts = {
  ttl: 20,
  loop_wait: 1,
  retry_timeout: 3,
  primary_start_timeout: 0,
};

const PATRONI = '/usr/bin/patroni';
const ETCD = '/usr/bin/etcd';
/** The same server settings as the test harness's pairs (test/harness/postgres.ts). */
const PG_PARAMETERS = {
  wal_level: 'replica',
  hot_standby: 'on',
  max_wal_senders: 10,
  max_replication_slots: 10,
  wal_keep_size: '64MB',
  fsync: 'off',
  logging_collector: 'off',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Postmasters started by Patroni are not our children: killed on exit, whatever happens. */
const liveDataDirs = new Set<string>();
process.once('exit', () => {
  for (const d of liveDataDirs) for (const pid of postgresPids(d)) tryKill(pid);
});

function tryKill(pid: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!(pid > 0)) return undefined;
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('postgres') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The postmaster of `dataDir` (if running) and its children. */
function postgresPids(dataDir: string): number[] {
  const pm = postmasterPid(dataDir);
  return pm === undefined ? [] : [pm, ...childrenOf(pm)];
}

async function httpJson(url: string, timeoutMs = 2_000): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body };
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e instanceof Error ? e.message : JSON.stringify(e);
    }
    if (performance.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last})` : ''}`);
    await sleep(200);
  }
}

interface PatroniNode {
  name: string;
  pgPort: number;
  restPort: number;
  dataDir: string;
  agent: ManagedProcess;
}

interface Pair {
  scope: string;
  dir: { path: string; cleanup(): void };
  nodes: PatroniNode[];
}

interface ClusterMember {
  name: string;
  role: string;
  state: string;
  host?: string;
  port?: number;
}

export class PatroniSubject implements FailoverSubject {
  private readonly user = postgresUser();
  private etcd: { proc: ManagedProcess; port: number; dir: { path: string; cleanup(): void } } | undefined;
  private pair: Pair | undefined;
  private pairs = 0;
  /** How long the last pair took to become healthy, ms. */
  lastSetupMs = NaN;

  constructor(
    readonly name: string,
    private readonly timeouts: PatroniTimeouts,
    private readonly log: (m: string) => void = () => undefined,
  ) {}

  describe(): string {
    const t = this.timeouts;
    return `Patroni 3.0 + etcd 3.4 (etcd3 API), ttl ${t.ttl} s, loop_wait ${t.loop_wait} s, retry_timeout ${t.retry_timeout} s, primary_start_timeout ${t.primary_start_timeout} s, use_pg_rewind, async streaming; a fresh pair per trial`;
  }

  async setup(): Promise<void> {
    await this.startEtcd();
    await this.startPair();
  }

  endpoints(): string[] {
    return this.current().nodes.map((n) => `127.0.0.1:${n.pgPort}`);
  }

  async primary(): Promise<string> {
    const leader = await this.leader();
    return `127.0.0.1:${leader.pgPort}`;
  }

  async arm(kind: FailureKind): Promise<() => void> {
    const leader = await this.leader();
    const pm = postmasterPid(leader.dataDir);
    const agentPid = leader.agent.pid;
    if (pm === undefined) throw new Error(`${leader.name}: no running postmaster in ${leader.dataDir}`);
    if (agentPid === undefined || !leader.agent.running)
      throw new Error(`${leader.name}: its agent is not running`);
    this.log(`${this.name}: ${kind} on ${leader.name} (postmaster ${pm}, agent ${agentPid})`);
    if (kind === 'postmaster-kill') return () => process.kill(pm, 'SIGKILL');
    const children = childrenOf(pm);
    return () => {
      process.kill(agentPid, 'SIGKILL');
      process.kill(pm, 'SIGKILL');
      for (const c of children) tryKill(c);
    };
  }

  async restoreAfterTrial(): Promise<void> {
    await this.stopPair();
    await this.startPair();
  }

  async teardown(): Promise<void> {
    await this.stopPair();
    if (this.etcd) {
      await this.etcd.proc.stop('SIGTERM', 5_000);
      this.etcd.dir.cleanup();
      this.etcd = undefined;
    }
  }

  /** Agents' logs of the current pair, for a failed trial's report. */
  tails(n = 15): string {
    return (this.pair?.nodes ?? []).map((x) => `--- ${x.name}\n${x.agent.tail(n)}`).join('\n');
  }

  private current(): Pair {
    if (!this.pair) throw new Error(`${this.name}: no pair (setup() first)`);
    return this.pair;
  }

  private asPostgres(home: string) {
    return { uid: this.user.uid, gid: this.user.gid, env: { ...process.env, LC_ALL: 'C', HOME: home } };
  }

  private async startEtcd(): Promise<void> {
    if (this.etcd) return;
    const dir = tempDir(`etcd-${this.name}`, this.user);
    const [client, peer] = [await freePort(), await freePort()];
    const proc = new ManagedProcess(
      `etcd-${this.name}`,
      ETCD,
      [
        '--name',
        'e1',
        '--data-dir',
        join(dir.path, 'data'),
        '--listen-client-urls',
        `http://127.0.0.1:${client}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${client}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `e1=http://127.0.0.1:${peer}`,
        '--log-level',
        'warn',
      ],
      this.asPostgres(dir.path),
    );
    this.etcd = { proc, port: client, dir };
    await until('etcd healthy', 20_000, async () => {
      const r = await httpJson(`http://127.0.0.1:${client}/health`);
      return r.status === 200 && (r.body as { health?: string }).health === 'true';
    });
  }

  private async startPair(): Promise<void> {
    const etcd = this.etcd;
    if (!etcd) throw new Error('etcd is not running');
    const began = performance.now();
    const scope = `bench${++this.pairs}`;
    const dir = tempDir(`patroni-${this.name}-${scope}`, this.user);
    const ports = await Promise.all(
      [1, 2].map(async () => ({ pg: await freePort(), rest: await freePort() })),
    );
    const pair: Pair = { scope, dir, nodes: [] };
    this.pair = pair;
    const t = this.timeouts;
    const hba = [
      'local all all trust',
      'host all all 127.0.0.1/32 trust',
      'host replication all 127.0.0.1/32 trust',
    ];
    for (const [i, p] of ports.entries()) {
      const name = `n${i + 1}`;
      const dataDir = join(dir.path, name, 'data');
      const config = {
        scope,
        namespace: '/mware-bench/',
        name,
        log: { level: 'INFO', format: '%(asctime)s %(levelname)s: %(message)s' },
        restapi: { listen: `127.0.0.1:${p.rest}`, connect_address: `127.0.0.1:${p.rest}` },
        etcd3: { hosts: [`127.0.0.1:${etcd.port}`] },
        bootstrap: {
          dcs: {
            ttl: t.ttl,
            loop_wait: t.loop_wait,
            retry_timeout: t.retry_timeout,
            primary_start_timeout: t.primary_start_timeout,
            maximum_lag_on_failover: 1048576,
            postgresql: { use_pg_rewind: true, use_slots: true, parameters: PG_PARAMETERS },
          },
          initdb: [{ encoding: 'UTF8' }, { locale: 'C' }, 'no-sync'],
          pg_hba: hba,
        },
        postgresql: {
          listen: `127.0.0.1:${p.pg}`,
          connect_address: `127.0.0.1:${p.pg}`,
          data_dir: dataDir,
          bin_dir: PG_BIN,
          pgpass: join(dir.path, name, 'pgpass'),
          authentication: {
            superuser: { username: 'postgres', password: 'postgres' },
            replication: { username: 'replicator', password: 'replicator' },
            rewind: { username: 'postgres', password: 'postgres' },
          },
          parameters: { unix_socket_directories: join(dir.path, name) },
          pg_hba: hba,
        },
        watchdog: { mode: 'off' },
        tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
      };
      const nodeDir = join(dir.path, name);
      // Patroni needs its node directory to create the data directory in; root writes the config (0644).
      mkdirSync(nodeDir, { mode: 0o700 });
      chownSync(nodeDir, this.user.uid, this.user.gid);
      const configPath = join(nodeDir, 'patroni.yml');
      writeFileSync(configPath, stringify(config));
      liveDataDirs.add(dataDir);
      const agent = new ManagedProcess(
        `patroni-${scope}-${name}`,
        PATRONI,
        [configPath],
        this.asPostgres(nodeDir),
      );
      pair.nodes.push({ name, pgPort: p.pg, restPort: p.rest, dataDir, agent });
    }
    try {
      await waitHealthyPair(this.endpoints(), 120_000);
      // Patroni's own view agrees: a leader running, the other member a running replica.
      await until(`${scope}: Patroni sees a leader and a running replica`, 60_000, async () => {
        const members = await this.members();
        return (
          members.length === 2 &&
          members.some((m) => m.role === 'leader' && m.state === 'running') &&
          members.some((m) => m.role === 'replica' && (m.state === 'running' || m.state === 'streaming'))
        );
      });
    } catch (e) {
      throw new Error(`${String(e)}\n${this.tails(25)}`);
    }
    this.lastSetupMs = performance.now() - began;
    const leader = await this.leader();
    this.log(
      `${this.name}: pair ${scope} healthy in ${Math.round(this.lastSetupMs)} ms, leader ${leader.name}`,
    );
  }

  private async stopPair(): Promise<void> {
    const pair = this.pair;
    if (!pair) return;
    this.pair = undefined;
    // The pair is thrown away: no graceful shutdown, everything gets SIGKILL.
    for (const n of pair.nodes) n.agent.signal('SIGKILL');
    await Promise.all(pair.nodes.map((n) => n.agent.exited));
    for (let round = 0; round < 50; round++) {
      const left = pair.nodes.flatMap((n) => postgresPids(n.dataDir));
      if (left.length === 0) break;
      for (const pid of left) tryKill(pid);
      await sleep(100);
    }
    for (const n of pair.nodes) liveDataDirs.delete(n.dataDir);
    pair.dir.cleanup();
  }

  private async members(): Promise<ClusterMember[]> {
    for (const n of this.current().nodes) {
      if (!n.agent.running) continue;
      try {
        const r = await httpJson(`http://127.0.0.1:${n.restPort}/cluster`);
        if (r.status === 200) return (r.body as { members?: ClusterMember[] }).members ?? [];
      } catch {
        // try the other agent
      }
    }
    throw new Error('no Patroni agent answers /cluster');
  }

  private async leader(): Promise<PatroniNode> {
    const members = await this.members();
    const m = members.find((x) => x.role === 'leader');
    const node = this.current().nodes.find((n) => n.name === m?.name);
    if (!node) throw new Error(`no leader in ${JSON.stringify(members)}`);
    return node;
  }
}
