import pg from 'pg';
import type { MigrationRecord, MigrationSummary } from '../../actors/freeswitch/protocol.ts';
import { RecoveryTable } from '../../src/freeswitch/recovery-table.ts';
import { startEslSimulator } from '../../test/harness/esl-simulator/index.ts';
import type { SimHost } from '../../test/harness/esl-simulator/index.ts';
import { startNodeProcess } from '../../test/harness/node.ts';
import type { NodeProcess } from '../../test/harness/node.ts';
import { startPostgres } from '../../test/harness/postgres.ts';
import { fsTopology } from '../../test/support/fs-node.ts';
import { fmt, median, report } from '../stats.ts';

/**
 * Call recovery at scale (issue 9's benchmark): a host with N answered calls (half bridged pairs, half single
 * parked legs) dies (`fsctl crash`); one mware node (`mware start`, its own process) declares it down after
 * confirm_ms and moves its calls to 1, 2 or 3 survivors. Measured, median of TRIALS:
 * - recreate: from the host declared down (the migration's start) until every call is re-created and re-bridged on
 *   the survivors — the re-INVITE window is excluded (it is a fixed wait, reported apart);
 * - recover: the longest `fsctl recover` of the targets (FreeSWITCH's own share; the simulator takes
 *   RECOVER_MS_PER_LEG per leg, as a real FreeSWITCH 1.10.12 was measured here: ≈4 ms);
 * - mware's share: recreate − recover (planning, rewriting, handing over, following the events).
 * And the drain of a living host with 1,000 calls to three survivors. The simulators run in this process, the node
 * in its own: the node's figures are its own work.
 * Usage: node --import tsx bench/fs-migration/run.ts   (env: TRIALS=3 NS=100,1000 SURVIVORS=1,2,3 RECOVER_MS_PER_LEG=4)
 */

const TRIALS = Number(process.env.TRIALS ?? 3);
const NS = (process.env.NS ?? '100,1000').split(',').map(Number);
const SURVIVORS = (process.env.SURVIVORS ?? '1,2,3').split(',').map(Number);
const PER_LEG = Number(process.env.RECOVER_MS_PER_LEG ?? 4);
const WINDOW_MS = 1_000;
const CONFIRM_MS = 1_500;
const TOKEN = 'fs-bench-admin-token-0123456789';
const NAMES = ['fs00', 'fs01', 'fs02', 'fs03'];
const ip = (n: string): string => `127.0.0.${21 + Number(n.slice(2))}`;

const server = await startPostgres({ name: 'pg-fs-bench' });
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query('CREATE ROLE fs LOGIN');
await new RecoveryTable(admin).install();
const sims: Record<string, SimHost> = {};
for (const name of NAMES)
  sims[name] = await startEslSimulator({
    name,
    switchname: `switch-${name}`,
    addresses: [ip(name)],
    sipIp: ip(name),
    mediaIp: ip(name),
    profiles: ['internal'],
    db: { connectionString: `postgres://fs@${server.host}:${server.port}/postgres` },
    recoverMsPerLeg: PER_LEG,
    reinviteWindowMs: WINDOW_MS,
    maxSessions: 10_000,
  });
const topology = await fsTopology(
  { host: server.host, port: server.port, database: 'postgres', user: 'postgres' },
  NAMES.map((n) => ({ sim: sims[n]!, sipIp: ip(n), mediaIp: ip(n), profiles: ['internal'] })),
  { confirm_ms: CONFIRM_MS, reinvite_window_ms: WINDOW_MS },
);
topology['security'] = { api_tokens: [{ name: 'bench', token: '${env:FS_BENCH_TOKEN}', scopes: ['admin'] }] };
const role = (topology['roles'] as Record<string, unknown>[])[0]!;
const port = (role['api'] as { port: number }).port;
const node: NodeProcess = startNodeProcess({
  topology,
  env: { MWARE_LOG_LEVEL: 'info', FS_BENCH_TOKEN: TOKEN },
});
const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = (await r.json()) as T;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}\n${node.process.tail(30)}`);
    await sleep(50);
  }
}

type Farm = { hosts: { name: string; state: string; paused: boolean }[]; recent: MigrationSummary[] };
const farm = () => api<Farm>('GET', '/api/v1/freeswitch');

async function allUp(): Promise<void> {
  await until(
    'every host up',
    async () => (await farm()).hosts.filter((h) => h.state === 'up').length === NAMES.length,
  );
}

/** Every simulator empty and unpaused, the table empty. */
async function reset(): Promise<void> {
  for (const n of NAMES)
    for (const c of sims[n]!.channels()) await sims[n]!.hangup(c.uuid).catch(() => undefined);
  for (const n of NAMES) await sims[n]!.idle();
  await admin.query('DELETE FROM recovery');
  for (const n of NAMES) sims[n]!.resume();
  await allUp();
  await until('no host paused', async () => (await farm()).hosts.every((h) => !h.paused));
}

async function placeCalls(n: number): Promise<number> {
  const src = sims.fs00!;
  await src.placeCalls(n / 2, { profile: 'internal', domain: 'bench.test', caller: '1000', callee: '2000' });
  await src.placeCalls(n / 2, {
    profile: 'internal',
    domain: 'bench.test',
    caller: '3000',
    callee: '4000',
    bridged: false,
  });
  await src.idle();
  return src.channels().length;
}

async function finished(source: string, since: number): Promise<MigrationRecord> {
  let id = '';
  await until(`migration of ${source} finished`, async () => {
    const f = await farm();
    id = [...f.recent].reverse().find((m) => m.source === source && m.started_at >= since)?.id ?? '';
    return id !== '';
  });
  return api<MigrationRecord>('GET', `/api/v1/freeswitch/migrations/${id}`);
}

/** VERBOSE=1: the migration's steps from the node's log, with the time since its first line. */
function printSteps(id: string): void {
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const lines = node.logs().filter((l) => l['migration'] === id);
  const t0 = Date.parse(text(lines[0]?.['time']));
  for (const l of lines) console.log(`    +${Date.parse(text(l['time'])) - t0} ms ${text(l['msg'])}`);
}

interface Trial {
  recreate: number;
  recover: number;
  share: number;
  moved: number;
  calls: number;
  fromKill: number;
}

async function failoverTrial(n: number, k: number): Promise<Trial> {
  await reset();
  // Survivors beyond k are paused: a paused host is never chosen.
  for (const [i, name] of NAMES.slice(1).entries()) if (i >= k) sims[name]!.pause();
  await until('pauses seen', async () => (await farm()).hosts.filter((h) => h.paused).length === 3 - k);
  const legs = await placeCalls(n);
  const killedAt = Date.now();
  await sims.fs00!.crash();
  const m = await finished('fs00', killedAt);
  if (process.env.VERBOSE) printSteps(m.id);
  await sims.fs00!.restart();
  for (const name of NAMES.slice(1)) sims[name]!.resume();
  if (m.calls.length !== n)
    throw new Error(`${m.calls.length} calls in the migration, ${n} placed (${legs} legs)`);
  return {
    recreate: m.recreate_ms ?? NaN,
    recover: m.recover_ms ?? NaN,
    share: (m.recreate_ms ?? NaN) - (m.recover_ms ?? NaN),
    moved: m.calls.filter((c) => c.outcome === 'moved').length,
    calls: m.calls.length,
    fromKill: (m.started_at ?? killedAt) - killedAt + (m.recreate_ms ?? NaN),
  };
}

try {
  await until('node ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 60_000);
  await allUp();
  console.log(
    `fs-migration: simulator fsctl recover ${PER_LEG} ms/leg (real FreeSWITCH 1.10.12 here: ≈4 ms), confirm_ms ${CONFIRM_MS}, ` +
      `re-INVITE window ${WINDOW_MS} ms (excluded), ${TRIALS} trials; calls = half bridged pairs, half single legs`,
  );
  for (const n of NS)
    for (const k of SURVIVORS) {
      const trials: Trial[] = [];
      for (let t = 0; t < TRIALS; t++) trials.push(await failoverTrial(n, k));
      const md = (f: (x: Trial) => number) => median(trials.map(f));
      const lost = trials.reduce((s, x) => s + (x.calls - x.moved), 0);
      const target = n === 1000 && k === 3 ? '≤ 5,000 ms' : undefined;
      report(
        `failover ${fmt(n)} calls (${fmt(n * 1.5)} legs), ${k} survivor(s): declared down → all re-created`,
        `${fmt(md((x) => x.recreate))} ms (recover ${fmt(md((x) => x.recover))} ms; kill → re-created ${fmt(md((x) => x.fromKill))} ms; ` +
          `trials ${trials.map((x) => fmt(x.recreate)).join(' / ')}; not moved ${lost})`,
        target,
        target ? md((x) => x.recreate) <= 5_000 && lost === 0 : undefined,
      );
      report(
        `  mware's share (re-created − fsctl recover)`,
        `${fmt(md((x) => x.share))} ms`,
        '≤ 1,000 ms',
        md((x) => x.share) <= 1_000,
      );
    }
  // Drain: a living host with 1,000 calls to three survivors.
  const drains: number[] = [];
  const shares: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    await reset();
    await placeCalls(1000);
    const started = Date.now();
    await api('POST', '/api/v1/freeswitch/hosts/fs00/drain', {});
    const m = await finished('fs00', started);
    if (process.env.VERBOSE) printSteps(m.id);
    drains.push(m.recreate_ms ?? NaN);
    shares.push((m.recreate_ms ?? NaN) - (m.recover_ms ?? NaN));
    if (m.calls.some((c) => c.outcome !== 'moved'))
      throw new Error(
        `drain left calls behind: ${JSON.stringify(m.calls.find((c) => c.outcome !== 'moved'))}`,
      );
    await sims.fs00!.restart();
  }
  report(
    'drain of a host with 1,000 calls (1,500 legs) to 3 survivors: request → all re-created',
    `${fmt(median(drains))} ms (trials ${drains.map((x) => fmt(x)).join(' / ')}; mware's share ${fmt(median(shares))} ms)`,
  );
} finally {
  await node.process.stop('SIGTERM');
  node.cleanup();
  for (const s of Object.values(sims)) await s.stop();
  await admin.end();
  await server.stop();
}
