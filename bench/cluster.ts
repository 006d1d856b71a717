// The cluster, measured against a real redis-server and real `mware start` node processes on 127.0.0.1:
// - failover: the active of a 2-member group is sent SIGKILL (its host refuses its channel: fast path), SIGSTOP
//   (silent: the lease must run out) or SIGTERM (planned handover); the figure is the time from the signal to the
//   first request served by the new active, as seen by a client asking through both members every 10 ms;
// - forwarded vs local ask: a domain owned by group A, asked through A's active and through B's (node channel);
// - mutex lock+unlock from 16 SDK clients over the script channel, through the owning node and a non-owning one;
// - the idle cost of a 4-node cluster (2 groups × 2): CPU per node process and Redis commands per second.
// Progress goes to stderr; figures to stdout. Every process started here is killed however the run ends.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import { groupOfMutexKey } from '../topology/placement.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { CLUSTER_ENV, clusterTopology } from '../test/harness/cluster.ts';
import { ClusterNodes } from '../test/harness/cluster-nodes.ts';
import type { ManagedProcess } from '../test/harness/process.ts';
import type { RedisServer } from '../test/harness/redis.ts';
import { startRedis } from '../test/harness/redis.ts';
import { cpuSeconds } from './cpu-time.ts';
import type { Run } from './load-run.ts';
import { load } from './load-run.ts';
import { fmt, median, report } from './stats.ts';
import { SteadyClient } from './steady-client.ts';

const FAILOVER_TRIALS = Number(process.env.BENCH_FAILOVER_TRIALS ?? 7);
const PAIRED_TRIALS = Number(process.env.BENCH_TRIALS ?? 5);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 3);
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
/** The failover client's pace (per member) and each of its requests' deadline. */
const PROBE_EVERY_MS = 10;
const PROBE_TIMEOUT_MS = 1_000;
/** Latency of asks is compared unsaturated, as in bench/api.ts. */
const ASK_CONNECTIONS = 4;
/** Script clients, as the mutex target is set. */
const CHANNEL_CLIENTS = 16;
const TOKEN = CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN;

const began = performance.now();
const progress = (m: string) =>
  console.error(`[cluster ${fmt((performance.now() - began) / 1000, 1).padStart(5)} s] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What must be stopped however the run ends (Ctrl-C included), latest first. */
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse())
    await c().catch((e: unknown) => progress(`cleanup: ${String(e)}`));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    progress(`${sig}: stopping every process`);
    void cleanUp().finally(() => process.exit(130));
  });

async function redisServer(): Promise<RedisServer> {
  const r = await startRedis();
  cleanups.push(() => r.stop());
  return r;
}

function clusterNodes(nodes: ClusterNodes): ClusterNodes {
  cleanups.push(() => nodes.stop());
  return nodes;
}

/** Waits for `p` to exit by itself, up to `ms`, then kills it. */
async function exited(p: ManagedProcess, ms: number): Promise<void> {
  const timer = setTimeout(() => p.signal('SIGKILL'), ms);
  await p.exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------- failover

const FAILOVER_GROUP = 1;
/** The catch-all group's domain: every member of the group hosts it while active. */
const PROBED = '/domains/rootdomain.ru';

type Signal = 'SIGKILL' | 'SIGSTOP' | 'SIGTERM';

interface Trial {
  ms: number;
  /** SIGSTOP: the continued node answered as active again, or logged becoming active. */
  actedAgain: boolean;
  /** The member whose URL the first served request was sent to. */
  via: string;
}

async function incarnationAt(nodes: ClusterNodes, name: string): Promise<number> {
  const r = await nodes.post(name, `/api/v1/actors${PROBED}/messages?reply=true`, { type: 'info' });
  const started = (r.body.result as { started_at?: number } | undefined)?.started_at;
  if (r.status !== 200 || started === undefined)
    throw new Error(`info at ${name}: ${JSON.stringify(r.body)}`);
  return started;
}

/** One takeover: signal the active, wait for the first request served by the new one, restore two members. */
async function failoverTrial(nodes: ClusterNodes, sig: Signal): Promise<Trial> {
  const { active } = await nodes.settled(FAILOVER_GROUP);
  const old = await incarnationAt(nodes, active);
  const members = nodes.cluster.members.map((m) => m.name);
  const client = new SteadyClient({
    urls: members.map((m) => nodes.url(m)),
    path: PROBED,
    token: TOKEN,
    everyMs: PROBE_EVERY_MS,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  const victim = nodes.node(active).process;
  client.start();
  try {
    await sleep(300); // connections open, answers from the old active flowing
    if (!client.outcomes.some((x) => x.incarnation === old)) throw new Error('no answer before the signal');
    const t0 = performance.now();
    victim.signal(sig);
    let first = client.firstServedAfter(t0, old);
    for (; !first; first = client.firstServedAfter(t0, old)) {
      if (performance.now() - t0 > 15_000)
        throw new Error(`no request served by a new active within 15 s of ${sig}\n${nodes.tails(10)}`);
      await sleep(5);
    }
    let actedAgain = false;
    if (sig === 'SIGSTOP') {
      const activations = () =>
        nodes
          .node(active)
          .logs()
          .filter((l) => l.msg === 'node active').length;
      const before = activations();
      victim.signal('SIGCONT');
      await nodes.until(`${active} passive after SIGCONT`, async () => {
        const c = await nodes.get(active, '/api/v1/cluster');
        return c.body.node_state === 'passive';
      });
      await sleep(1_000); // the client keeps asking through both members
      actedAgain =
        client.servedBy(old, first.doneAt).length > 0 ||
        (await nodes.activeAt(active)) ||
        activations() > before;
    }
    const via = members.find((m) => first.url === nodes.url(m)) ?? first.url;
    return { ms: first.doneAt - t0, actedAgain, via };
  } finally {
    await client.stop();
    victim.signal('SIGCONT'); // a stopped node is continued whatever happened
    if (sig !== 'SIGSTOP') {
      await exited(victim, 10_000);
      nodes.start(active);
    }
  }
}

async function failover(): Promise<void> {
  const redis = await redisServer();
  const nodes = clusterNodes(
    new ClusterNodes(
      await clusterTopology({ redisUrl: redis.url, groups: [{ group: FAILOVER_GROUP, members: 2 }] }),
    ),
  );
  progress('failover: starting a group of 2 nodes');
  for (const m of nodes.cluster.members) nodes.start(m.name);
  await nodes.settled(FAILOVER_GROUP);
  const targets: Record<Signal, { ms: number; why: string } | undefined> = {
    SIGKILL: { ms: 500, why: 'fast path: the dead process’s host refuses its channel' },
    SIGSTOP: { ms: 2_000, why: 'silent node: lease expiry' },
    SIGTERM: undefined,
  };
  for (const sig of ['SIGKILL', 'SIGSTOP', 'SIGTERM'] as const) {
    const took: number[] = [];
    const failures: string[] = [];
    let actedAgain = 0;
    for (let t = 0; t < FAILOVER_TRIALS; t++) {
      try {
        const r = await failoverTrial(nodes, sig);
        took.push(r.ms);
        if (r.actedAgain) actedAgain++;
        progress(`failover ${sig} trial ${t + 1}: ${fmt(r.ms)} ms (first served via ${r.via})`);
      } catch (err) {
        failures.push(String(err).split('\n')[0] as string);
        progress(`failover ${sig} trial ${t + 1} failed: ${String(err)}`);
        if (failures.length >= 2) break; // something is wrong with the cluster: report what there is
      }
    }
    const target = targets[sig];
    const m = median(took);
    const what =
      sig === 'SIGKILL'
        ? 'SIGKILL the active (process dies, host alive)'
        : sig === 'SIGSTOP'
          ? 'SIGSTOP the active (silent; SIGCONT after the takeover)'
          : 'SIGTERM the active (planned handover)';
    report(
      `failover, ${what}: signal → first request served by the new active (median of ${took.length} trials${failures.length ? `, ${failures.length} failed` : ''}; client asks through both members every ${PROBE_EVERY_MS} ms)`,
      `${fmt(m)} ms (min ${fmt(Math.min(...took))}, max ${fmt(Math.max(...took))})${sig === 'SIGSTOP' ? `; continued node acted as active again in ${actedAgain} of ${took.length}` : ''}`,
      target ? `<= ${fmt(target.ms)} ms, ${target.why}` : undefined,
      target ? took.length >= 5 && failures.length === 0 && m <= target.ms && actedAgain === 0 : undefined,
    );
    for (const f of failures) console.log(`  failed trial: ${f}`);
  }
  console.log(
    'failover, for comparison (stated defaults, not measured here): Patroni ≈ 30 s, Akka Cluster Singleton ≈ 25–45 s, keepalived ≈ 3 s',
  );
}

// ------------------------------------------------------------------------------------ two groups: idle, forwarding

/** Group A owns test.rootdomain.ru and its subtree; group B is the catch-all (rootdomain.ru). */
const A = 2;
const B = 1;
const A_DOMAIN = 'test.rootdomain.ru';

async function idleCost(nodes: ClusterNodes, redis: RedisServer, roles: Map<string, string>): Promise<void> {
  progress(`idle: measuring ${IDLE_S} s of a cluster doing nothing`);
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const commands = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await client.info('stats'))?.[1] ?? NaN);
    /** Calls per command name so far (INFO commandstats). */
    const byCommand = async () =>
      new Map(
        [...(await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(
          (m) => [m[1] as string, Number(m[2])] as const,
        ),
      );
    const pids = nodes.cluster.members.map((m) => [m.name, nodes.node(m.name).process.pid ?? 0] as const);
    const redisPid = redis.process.pid ?? 0;
    const cpu0 = new Map(pids.map(([n, pid]) => [n, cpuSeconds(pid)]));
    const redisCpu0 = cpuSeconds(redisPid);
    const calls0 = await byCommand();
    const cmd0 = await commands();
    const t0 = performance.now();
    await sleep(IDLE_S * 1_000);
    const cmd1 = await commands();
    const calls1 = await byCommand();
    const seconds = (performance.now() - t0) / 1_000;
    const share = (before: number, after: number) => ((after - before) / seconds) * 100;
    const perNode = pids.map(([n, pid]) => ({ n, pct: share(cpu0.get(n) ?? 0, cpuSeconds(pid)) }));
    const redisPct = share(redisCpu0, cpuSeconds(redisPid));
    // One INFO is counted in the second reading itself; the first is counted in the delta.
    const perSecond = (cmd1 - cmd0 - 1) / seconds;
    const breakdown = [...calls1]
      .map(
        ([name, n]) => [name, (n - (calls0.get(name) ?? 0) - (name === 'info' ? 2 : 0)) / seconds] as const,
      )
      .filter(([, rate]) => rate > 0)
      .sort((x, y) => y[1] - x[1])
      .map(([name, rate]) => `${name} ${fmt(rate, 1)}`)
      .join(', ');
    report(
      `idle cluster, 4 nodes (2 groups × 2) over ${fmt(seconds, 1)} s: CPU per node process (% of one core)`,
      perNode.map((x) => `${x.n} (${roles.get(x.n)}) ${fmt(x.pct, 2)} %`).join(', ') +
        `; all nodes ${fmt(
          perNode.reduce((a, x) => a + x.pct, 0),
          2,
        )} %`,
    );
    report(
      `idle cluster: Redis commands/s (INFO total_commands_processed delta) and redis-server CPU`,
      `${fmt(perSecond, 1)} commands/s (${breakdown}), redis-server ${fmt(redisPct, 2)} % of one core`,
    );
  } finally {
    client.disconnect();
  }
}

async function forwardedAsk(nodes: ClusterNodes, owner: string, other: string): Promise<void> {
  const path = `/api/v1/actors/domains/${A_DOMAIN}/messages?reply=true`;
  const local = nodes.url(owner) + path;
  const forwarded = nodes.url(other) + path;
  progress(`ask: ${A_DOMAIN} (group ${A}) through ${owner} (local) and ${other} (forwarded), warming up`);
  await load('ask', local, TOKEN, 1, ASK_CONNECTIONS);
  await load('ask', forwarded, TOKEN, 1, ASK_CONNECTIONS);
  const l: Run[] = [];
  const f: Run[] = [];
  for (let t = 0; t < PAIRED_TRIALS; t++) {
    // Paired trials in alternating order, so drift on this shared machine hits both alike.
    for (const which of t % 2 === 0 ? (['l', 'f'] as const) : (['f', 'l'] as const))
      if (which === 'l') l.push(await load('ask', local, TOKEN, DURATION_S, ASK_CONNECTIONS));
      else f.push(await load('ask', forwarded, TOKEN, DURATION_S, ASK_CONNECTIONS));
    progress(`ask trial ${t + 1}: local p50 ${fmt(l[t]!.p50, 2)} ms, forwarded p50 ${fmt(f[t]!.p50, 2)} ms`);
  }
  const ratio = (pick: (r: Run) => number) => median(l.map((x, i) => pick(f[i]!) / pick(x)));
  const line = (rs: Run[]) =>
    `p50 ${fmt(median(rs.map((r) => r.p50)), 2)} ms, p99 ${fmt(median(rs.map((r) => r.p99)), 2)} ms, ${fmt(median(rs.map((r) => r.rps)))} req/s, errors ${rs.reduce((a, r) => a + r.errors, 0)}`;
  report(
    `ask ${A_DOMAIN} (owned by group ${A}), ${ASK_CONNECTIONS} connections: local, through the owner's active`,
    line(l),
  );
  report(`ask ${A_DOMAIN}: forwarded, through group ${B}'s active over the node channel`, line(f));
  report(
    `ask: forwarded/local (median of ${PAIRED_TRIALS} paired trials)`,
    `p50 × ${fmt(
      ratio((r) => r.p50),
      2,
    )}, p99 × ${fmt(
      ratio((r) => r.p99),
      2,
    )}, throughput × ${fmt(
      ratio((r) => r.rps),
      2,
    )}`,
  );
}

/** `n` keys the rendezvous hash gives to `group` in this topology (as every node computes it). */
function keysOwnedBy(nodes: ClusterNodes, group: number, n: number): string[] {
  const loaded = loadTopologyFile(nodes.file, {
    env: CLUSTER_ENV,
    readFile: (p) => readFileSync(p, 'utf8'),
    baseDir: dirname(nodes.file),
  });
  if (!loaded.ok) throw new Error(`the bench topology is invalid: ${JSON.stringify(loaded.problems)}`);
  const keys: string[] = [];
  for (let i = 0; keys.length < n; i++)
    if (groupOfMutexKey(loaded.topology, 'main', `bench-${i}`) === group) keys.push(`bench-${i}`);
  return keys;
}

async function forwardedMutex(nodes: ClusterNodes, owner: string, other: string): Promise<void> {
  const keys = keysOwnedBy(nodes, A, CHANNEL_CLIENTS).join(',');
  const env = { FLOWS: '1', KEYS: keys };
  progress(`mutex: ${CHANNEL_CLIENTS} SDK clients on keys of group ${A}, through ${owner} and ${other}`);
  await load('channel', nodes.url(owner), TOKEN, 1, CHANNEL_CLIENTS, env);
  await load('channel', nodes.url(other), TOKEN, 1, CHANNEL_CLIENTS, env);
  const o: Run[] = [];
  const f: Run[] = [];
  const trials = PAIRED_TRIALS;
  for (let t = 0; t < trials; t++) {
    for (const which of t % 2 === 0 ? (['o', 'f'] as const) : (['f', 'o'] as const))
      if (which === 'o')
        o.push(await load('channel', nodes.url(owner), TOKEN, DURATION_S, CHANNEL_CLIENTS, env));
      else f.push(await load('channel', nodes.url(other), TOKEN, DURATION_S, CHANNEL_CLIENTS, env));
    progress(
      `mutex trial ${t + 1}: owner ${fmt(o[t]!.cycles)} cycles/s, forwarded ${fmt(f[t]!.cycles)} cycles/s`,
    );
  }
  const line = (rs: Run[]) => {
    const c = median(rs.map((r) => r.cycles));
    return `${fmt(c)} cycles/s (${fmt(c * 2)} req/s), request p50 ${fmt(median(rs.map((r) => r.p50)), 2)} ms, p99 ${fmt(median(rs.map((r) => r.p99)), 2)} ms, errors ${rs.reduce((a, r) => a + r.errors, 0)}`;
  };
  const oc = median(o.map((r) => r.cycles));
  const op99 = median(o.map((r) => r.p99));
  const oerr = o.reduce((a, r) => a + r.errors, 0);
  report(
    `mutex lock+unlock, script channel (SDK), ${CHANNEL_CLIENTS} clients × 1 loop, state_mode none, 4-node cluster: through the owning group's active (median of ${trials})`,
    line(o),
    '>= 10,000/s, p99 <= 5 ms',
    oc >= 10_000 && op99 <= 5 && oerr === 0,
  );
  report(
    `mutex lock+unlock, script channel: through group ${B}'s active, which does not own the keys (forwarded over the node channel)`,
    line(f),
  );
  report(
    `mutex through the script channel: forwarded/owning (median of ${trials} paired trials)`,
    `throughput × ${fmt(median(o.map((x, i) => f[i]!.cycles / x.cycles)), 2)}, p99 × ${fmt(median(o.map((x, i) => f[i]!.p99 / x.p99)), 2)}`,
  );
}

async function twoGroups(): Promise<void> {
  const redis = await redisServer();
  const nodes = clusterNodes(
    new ClusterNodes(
      await clusterTopology({
        redisUrl: redis.url,
        groups: [
          { group: B, members: 2 },
          { group: A, members: 2, include_domains: [A_DOMAIN] },
        ],
        // As the single-node mutex figures: no state written per lock.
        stateMode: 'none',
      }),
    ),
  );
  progress('starting a cluster of 4 nodes (2 groups × 2)');
  for (const m of nodes.cluster.members) nodes.start(m.name);
  const a = await nodes.settled(A);
  const b = await nodes.settled(B);
  const roles = new Map<string, string>();
  for (const [g, s] of [
    [A, a],
    [B, b],
  ] as const) {
    roles.set(s.active, `group ${g}, active`);
    for (const p of s.passive) roles.set(p, `group ${g}, passive`);
  }
  await sleep(5_000); // start-up work (JIT, first GCs) out of the idle figure
  await idleCost(nodes, redis, roles);
  await forwardedAsk(nodes, a.active, b.active);
  await forwardedMutex(nodes, a.active, b.active);
  const after = await Promise.all([nodes.settled(A, 5_000), nodes.settled(B, 5_000)]);
  if (after[0].active !== a.active || after[1].active !== b.active)
    console.log(
      `  note: leadership changed during the run (${a.active}/${b.active} → ${after[0].active}/${after[1].active})`,
    );
}

try {
  await failover();
  await cleanUp();
  await twoGroups();
} catch (err) {
  progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
  progress('done');
}
