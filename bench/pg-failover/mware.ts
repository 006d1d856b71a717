import { writeFileSync } from 'node:fs';
import type { NodeProcess } from '../../test/harness/node.ts';
import { startNodeProcess } from '../../test/harness/node.ts';
import type { PgHostServer } from '../../test/harness/pg-host.ts';
import { startPgHosts } from '../../test/harness/pg-host.ts';
import { freePort } from '../../test/harness/ports.ts';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { pgTopology } from '../../test/support/pg-node.ts';
import { descendantsOf } from '../../test/harness/pids.ts';
import { waitHealthyPair } from './client.ts';
import type { FailoverSubject, FailureKind } from './subject.ts';

/**
 * mware's pg_controller as a failover subject: the same kind of PostgreSQL 15 pair as Patroni's (pg_ctl-managed, each
 * host with its own sshd, from the test harness), watched by one `mware start` process on the embedded default with
 * the cluster's defaults (probe 250 ms, confirmation window 2 s) and a loopback referee. The old primary rejoins on
 * its own after a postmaster kill; after a lost host, the host comes back and its postgres is started as it was (a
 * primary), which the controller fences and rejoins.
 */
export async function createSubject(log: (m: string) => void = () => {}): Promise<FailoverSubject> {
  let hosts: PgHostServer[] = [];
  let node: NodeProcess | undefined;
  let referee: Server | undefined;
  let lost: PgHostServer | undefined;
  const endpoint = (h: PgHostServer) => `127.0.0.1:${h.pgPort}`;
  const byEndpoint = (e: string) => hosts.find((h) => endpoint(h) === e) as PgHostServer;
  return {
    name: 'mware',
    describe: () => 'pg_controller defaults: probe_ms 250, confirm_ms 2000, referee on loopback',
    async setup() {
      hosts = await startPgHosts(2);
      const refereePort = await freePort();
      referee = createServer((s) => s.destroy()).listen(refereePort, '127.0.0.1');
      node = startNodeProcess({
        topology: await pgTopology([
          { key: 'bench', referee: `127.0.0.1:${refereePort}`, servers: hosts.map((h) => h.entry()) },
        ]),
        env: { MWARE_LOG_LEVEL: 'info' },
      });
      await node.process.waitForLine(/primary-adopted|"primary"/, 60_000);
      await waitHealthyPair(hosts.map(endpoint), 60_000);
      log('mware: node started, pair healthy');
    },
    endpoints: () => hosts.map(endpoint),
    primary: () => waitHealthyPair(hosts.map(endpoint), 60_000),
    async arm(kind: FailureKind) {
      const h = byEndpoint(await waitHealthyPair(hosts.map(endpoint), 60_000));
      const postmaster = h.postmasterPid();
      if (postmaster === undefined) throw new Error(`no postmaster pid on ${endpoint(h)}`);
      // A lost host takes every process with it: the postmaster, its backends (which would otherwise commit a
      // moment longer), its sshd and the sessions it serves — as the Patroni subject kills the agent and all postgres.
      const sshd = h.ssh.process.pid;
      const pids =
        kind === 'host-lost'
          ? [
              postmaster,
              ...descendantsOf(postmaster),
              ...(sshd === undefined ? [] : [sshd, ...descendantsOf(sshd)]),
            ]
          : [postmaster];
      if (kind === 'host-lost') lost = h;
      return () => {
        for (const pid of pids)
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
      };
    },
    async restoreAfterTrial() {
      if (lost) {
        const h = lost;
        lost = undefined;
        await h.lose(); // reaps what the trigger killed
        await h.comeBack();
        await waitHealthyPairOr(hosts, () => h.start());
      }
      await waitHealthyPair(hosts.map(endpoint), 120_000);
    },
    async teardown() {
      await node?.process.stop('SIGTERM').catch(() => undefined);
      if (node) log(`mware: ${rejoinSummary(node.process.lines)}`);
      // The node's log, for a look at what the controller decided and when.
      if (node && process.env.PG_FAILOVER_MWARE_LOG)
        writeFileSync(process.env.PG_FAILOVER_MWARE_LOG, node.process.lines.join('\n'));
      node?.cleanup();
      node = undefined;
      referee?.close();
      for (const h of hosts) await h.stop().catch(() => undefined);
      hosts = [];
    },
  };
}

/** Starts the lost host's postgres once the other server is the primary (it then comes back as a second primary). */
async function waitHealthyPairOr(hosts: PgHostServer[], start: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      await start();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`could not start the lost host's postgres again (${hosts.length} hosts)`);
}

/** How long the old primaries took to rejoin, by method, from the controller's `rejoined` decisions in the node's log. */
function rejoinSummary(lines: readonly string[]): string {
  const by = new Map<string, number[]>();
  for (const line of lines) {
    let j: { event?: unknown; method?: unknown; ms?: unknown };
    try {
      j = JSON.parse(line) as typeof j;
    } catch {
      continue;
    }
    if (j.event !== 'rejoined' || typeof j.method !== 'string' || typeof j.ms !== 'number') continue;
    by.set(j.method, [...(by.get(j.method) ?? []), j.ms]);
  }
  if (by.size === 0) return 'no rejoin seen';
  return `rejoin of the old primary: ${[...by]
    .map(([m, ms]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      return `${m} median ${sorted[Math.floor(sorted.length / 2)]} ms (${sorted.length}: ${sorted.join(', ')} ms)`;
    })
    .join('; ')}`;
}
