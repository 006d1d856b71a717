// The message API under load, from bench/load.ts in its own process, against a real `mware start` process:
// - ask throughput and p99 vs a bare fastify route (its own process) in the same run, alternating trials;
// - mutex lock+unlock through the API, each connection on its own key, per state_mode;
// - mutex lock+unlock through the script channel with the SDK, 16 clients.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exampleTopology, PROJECT_ROOT } from '../test/harness/node.ts';
import { ManagedProcess } from '../test/harness/process.ts';
import { freePort } from '../test/harness/ports.ts';
import { tempDir } from '../test/harness/temp.ts';
import { MWARE_BIN } from '../test/harness/node.ts';
import type { Run, Scenario } from './load-run.ts';
import { load as loadRun } from './load-run.ts';
import { fmt, median, report } from './stats.ts';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
const ASK_TRIALS = Number(process.env.BENCH_ASK_TRIALS ?? 7);
/**
 * Capacity is compared with both servers saturated (128 connections): with fewer, a closed-loop run on this
 * 2-core machine is bound by the generator's own latency and swings from run to run. Latency is measured
 * unsaturated (4 connections).
 */
const CONNECTIONS = 128;
const LIGHT = 4;
/** Script clients on the script channel, as the target is set (16). */
const CHANNEL_CLIENTS = 16;

/** One run of bench/load.ts, {@link DURATION_S} seconds on {@link CONNECTIONS} connections unless told. */
function load(
  scenario: Scenario,
  url: string,
  token: string,
  seconds = DURATION_S,
  connections = CONNECTIONS,
  env: Record<string, string> = {},
): Promise<Run> {
  return loadRun(scenario, url, token, seconds, connections, env);
}

async function startNode(stateMode: string): Promise<{ url: string; token: string; stop(): Promise<void> }> {
  const dir = tempDir('bench-api');
  const { topology, port } = await exampleTopology();
  (topology as { roles: { state_mode: string }[] }).roles[0]!.state_mode = stateMode;
  const token = 'bench-admin-token-0123456789abcdef';
  topology.security = {
    api_tokens: [{ name: 'bench', token: '${env:BENCH_TOKEN}', scopes: ['admin'] }],
  };
  writeFileSync(join(dir.path, 't.yaml'), stringify(topology));
  const p = new ManagedProcess(
    'mware',
    process.execPath,
    [MWARE_BIN, 'start', '--topology', join(dir.path, 't.yaml'), '--data-dir', join(dir.path, 'data')],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, BENCH_TOKEN: token, MWARE_LOG_LEVEL: 'warn' },
    },
  );
  await p.waitForLine(/"msg":"node active"|node active/, 30_000).catch(async () => {
    // at warn level the active line is not printed: poll readiness instead
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`, {
        headers: { authorization: `Bearer ${token}` },
      }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return '';
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the node did not become ready');
  });
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    stop: async () => {
      await p.stop('SIGTERM');
      dir.cleanup();
    },
  };
}

// ---------------------------------------------------------------------------------------- ask vs bare fastify
const askDir = tempDir('bench-api-ask');
const { topology: askTopology, port: askPort } = await exampleTopology();
const askToken = 'bench-admin-token-0123456789abcdef';
askTopology.security = {
  api_tokens: [{ name: 'bench', token: askToken, scopes: ['admin'] }],
};
writeFileSync(join(askDir.path, 't.yaml'), stringify(askTopology));
const barePort = await freePort();
const both = new ManagedProcess(
  'node-and-bare',
  process.execPath,
  [
    '--import',
    'tsx',
    new URL('./node-and-bare.ts', import.meta.url).pathname,
    join(askDir.path, 't.yaml'),
    join(askDir.path, 'data'),
    String(barePort),
  ],
  { cwd: PROJECT_ROOT },
);
await both.waitForLine(/^ready$/, 30_000);
const node = { url: `http://127.0.0.1:${askPort}`, token: askToken };
const askUrl = `${node.url}/api/v1/actors/domains/rootdomain.ru/messages?reply=true`;
const bareUrl = `http://127.0.0.1:${barePort}/ping`;
await load('ask', askUrl, node.token, 1);
await load('ask', bareUrl, '-', 1);
const api: Run[] = [];
const base: Run[] = [];
const ratios: number[] = [];
for (let t = 0; t < ASK_TRIALS; t++) {
  // Paired trials in alternating order, so drift on this shared machine hits both alike.
  const first = t % 2 === 0;
  const a = first ? await load('ask', bareUrl, '-') : await load('ask', askUrl, node.token);
  const b = first ? await load('ask', askUrl, node.token) : await load('ask', bareUrl, '-');
  const [bareRun, apiRun] = first ? [a, b] : [b, a];
  base.push(bareRun);
  api.push(apiRun);
  ratios.push(apiRun.rps / bareRun.rps);
}
const ratio = median(ratios);
report(
  `API ask (POST …/messages?reply=true, ${CONNECTIONS} keep-alive connections, saturated): bare fastify route in the node's process`,
  `${fmt(median(base.map((r) => r.rps)))} req/s, p99 ${fmt(median(base.map((r) => r.p99)), 2)} ms`,
);
report(
  `API ask: mware (token check, zod parse, routing, actor ask)`,
  `${fmt(median(api.map((r) => r.rps)))} req/s, p50 ${fmt(median(api.map((r) => r.p50)), 2)} ms, p99 ${fmt(median(api.map((r) => r.p99)), 2)} ms, errors ${api.reduce((a, r) => a + r.errors, 0)}`,
);
report(
  `API ask: ratio mware/bare fastify (median of ${ASK_TRIALS} paired trials; range ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`,
  fmt(ratio, 2),
  '>= 0.5',
  ratio >= 0.5,
);
const lightAsk = await load('ask', askUrl, node.token, DURATION_S, LIGHT);
const lightBare = await load('ask', bareUrl, '-', DURATION_S, LIGHT);
report(
  `API ask, unsaturated (${LIGHT} connections): mware / bare fastify`,
  `p50 ${fmt(lightAsk.p50, 2)} / ${fmt(lightBare.p50, 2)} ms, p99 ${fmt(lightAsk.p99, 2)} / ${fmt(lightBare.p99, 2)} ms, ${fmt(lightAsk.rps)} / ${fmt(lightBare.rps)} req/s`,
);
await both.stop('SIGTERM');
askDir.cleanup();

// ---------------------------------------------------------------------------------------- mutex through the API
for (const mode of ['none', 'transactional'] as const) {
  const n = await startNode(mode);
  await load('mutex', n.url, n.token, 1);
  const runs: Run[] = [];
  for (let t = 0; t < TRIALS; t++) runs.push(await load('mutex', n.url, n.token));
  const cycles = median(runs.map((r) => r.cycles));
  const p99 = median(runs.map((r) => r.p99));
  const bad = runs.reduce((a, r) => a + r.errors, 0);
  const target = mode === 'none';
  report(
    `mutex lock+unlock through the API, state_mode ${mode}${mode === 'transactional' ? ' (fdatasync before each answer)' : ''}, ${CONNECTIONS} connections`,
    `${fmt(cycles)} cycles/s (${fmt(cycles * 2)} req/s), request p50 ${fmt(median(runs.map((r) => r.p50)), 2)} ms, p99 ${fmt(p99, 2)} ms, errors ${bad}`,
    target ? '>= 10,000/s, p99 <= 5 ms' : undefined,
    target ? cycles >= 10_000 && p99 <= 5 && bad === 0 : undefined,
  );
  // Unsaturated: what one request costs when the machine has room.
  const light: Run[] = [];
  for (let t = 0; t < TRIALS; t++) light.push(await load('mutex', n.url, n.token, DURATION_S, LIGHT));
  report(
    `mutex lock+unlock through the API, state_mode ${mode}, ${LIGHT} connections (unsaturated)`,
    `${fmt(median(light.map((r) => r.cycles)))} cycles/s, request p50 ${fmt(median(light.map((r) => r.p50)), 2)} ms, p99 ${fmt(median(light.map((r) => r.p99)), 2)} ms`,
  );
  if (mode === 'none') {
    // The script channel: 16 script clients, each on its own persistent connection through the SDK, first one
    // lock/unlock loop each (a request in flight per client), then several pipelined on each client's channel.
    for (const flows of [1, 4]) {
      const ch: Run[] = [];
      for (let t = 0; t < TRIALS; t++)
        ch.push(await load('channel', n.url, n.token, DURATION_S, CHANNEL_CLIENTS, { FLOWS: String(flows) }));
      const c = median(ch.map((r) => r.cycles));
      const p = median(ch.map((r) => r.p99));
      const errs = ch.reduce((a, r) => a + r.errors, 0);
      report(
        `mutex lock+unlock through the script channel (SDK), state_mode none, ${CHANNEL_CLIENTS} clients × ${flows} loop(s) each`,
        `${fmt(c)} cycles/s (${fmt(c * 2)} req/s), request p50 ${fmt(median(ch.map((r) => r.p50)), 2)} ms, p99 ${fmt(p, 2)} ms, errors ${errs}`,
        '>= 10,000/s, p99 <= 5 ms',
        c >= 10_000 && p <= 5 && errs === 0,
      );
    }
  }
  await n.stop();
}
