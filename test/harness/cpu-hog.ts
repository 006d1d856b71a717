import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { CLUSTER_ENV, clusterTopology } from './cluster.ts';
import { ClusterNodes } from './cluster-nodes.ts';
import { startRedis } from './redis.ts';

/**
 * "No false failover" (issue 7, 07-quality.md): a group of two node processes over real Redis, every core of the
 * machine kept busy by spinning processes at the same priority, and steady requests to both nodes — for `seconds`.
 * Returns what was seen; a healthy runtime keeps one active, one epoch, and answers every request.
 */

export interface HogReport {
  seconds: number;
  hogs: number;
  /** Distinct active members seen, in order. */
  actives: string[];
  epochs: number[];
  requests: number;
  failed: number;
  /** Samples in which no member or two members answered /active 200. */
  badSamples: number;
  p99Ms: number;
}

export async function noFalseFailover(o: {
  seconds: number;
  progress?: (s: string) => void;
}): Promise<HogReport> {
  const redis = await startRedis();
  const hogs: ChildProcess[] = [];
  const c = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 12, members: 2 }] });
  const nodes = new ClusterNodes(c);
  try {
    for (const m of c.members) nodes.start(m.name);
    const auth = { authorization: `Bearer ${CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN}` };
    const activeNow = async () => {
      const up = await Promise.all(
        c.members.map(async (m) =>
          (
            await fetch(c.url(m.name) + '/active', { signal: AbortSignal.timeout(2_000) }).catch(
              () => undefined,
            )
          )?.status === 200
            ? [m.name]
            : [],
        ),
      );
      return up.flat();
    };
    const epochNow = async () => {
      const r = await fetch(c.url(c.members[0]?.name ?? '') + '/api/v1/cluster', { headers: auth });
      return ((await r.json()) as { epoch: number }).epoch;
    };
    for (const end = Date.now() + 60_000; (await activeNow()).length !== 1;) {
      if (Date.now() > end) throw new Error('no active member within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1_000)); // both members hear each other
    const report: HogReport = {
      seconds: o.seconds,
      hogs: cpus().length,
      actives: [],
      epochs: [await epochNow()],
      requests: 0,
      failed: 0,
      badSamples: 0,
      p99Ms: 0,
    };
    for (let i = 0; i < report.hogs; i++)
      hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    o.progress?.(`${report.hogs} CPU hogs spinning; watching for ${o.seconds} s`);
    const latencies: number[] = [];
    const end = performance.now() + o.seconds * 1000;
    let stop = false;
    // Steady requests: an ask to a domain actor through each node (the passive forwards), one every 50 ms each.
    const load = Promise.all(
      c.members.map(async (m) => {
        while (!stop) {
          const t0 = performance.now();
          const ok = await fetch(c.url(m.name) + '/api/v1/actors/domains/rootdomain.ru/messages?reply=true', {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: '{"type":"ping"}',
            signal: AbortSignal.timeout(5_000),
          }).then(
            (r) => r.ok,
            () => false,
          );
          latencies.push(performance.now() - t0);
          report.requests++;
          if (!ok) report.failed++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
    let lastProgress = performance.now();
    while (performance.now() < end) {
      const now = await activeNow();
      if (now.length !== 1) report.badSamples++;
      for (const a of now) if (report.actives.at(-1) !== a) report.actives.push(a);
      if (performance.now() - lastProgress > 30_000) {
        lastProgress = performance.now();
        o.progress?.(`${Math.round((end - performance.now()) / 1000)} s left; ${report.requests} requests`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    stop = true;
    await load;
    for (const h of hogs) h.kill('SIGKILL');
    report.epochs.push(await epochNow());
    latencies.sort((a, b) => a - b);
    report.p99Ms = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    return report;
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
    await nodes.stop();
    await redis.stop();
  }
}
