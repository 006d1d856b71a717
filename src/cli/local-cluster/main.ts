import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { loadTopologyFile } from '../../../topology/load.ts';
import { placementFor } from '../../../topology/placement.ts';
import { formatProblem } from '../../../topology/problems.ts';
import type { Topology } from '../../../topology/schema.ts';
import { mwareRoles } from '../../../topology/schema.ts';
import { processSecretSources } from '../../../topology/secrets.ts';
import { EXIT } from '../exit-codes.ts';
import type { Exit } from './child.ts';
import { Child, describeExit } from './child.ts';
import { LocalClusterFailed } from './errors.ts';
import { Output } from './output.ts';
import { findRedisServer, startRedisServer } from './redis-server.ts';
import { missingSecrets } from './secrets.ts';

/**
 * `npm run cluster`: a whole mware cluster on this machine, to watch it work and fail over (issue 7, item 10). It
 * starts a redis-server on the loopback address of the file's `coordination.redis.url`, then every mware instance of
 * the file (`mware start --role …`, each on its own 127.0.0.x address), shows every line they write with their name
 * in front, tells how to watch a failover once every group has its active instance, and stops everything on
 * Ctrl-C: the mware instances first (they hand over and save their state), Redis last. Nothing outlives it: data
 * directories and Redis' directory are temporary, Redis keeps nothing on disk.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MWARE_BIN = join(ROOT, 'src/cli/bin.mjs');
const DEFAULT_FILE = 'config/topology.cluster.yaml';
/** How long an mware instance may take to stop cleanly before it is killed. */
const NODE_STOP_MS = 20_000;
/** A signal this soon after the first is the same Ctrl-C delivered twice (the terminal's, and npm passing it on). */
const SAME_SIGNAL_MS = 1_000;

interface Instance {
  name: string;
  group: number;
  url: string;
  child: Child;
}

export async function localCluster(file: string): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const text = readFileSync(file, 'utf8');
  const made = missingSecrets(text, process.env);
  const env: NodeJS.ProcessEnv = { ...process.env, ...made };
  const loaded = loadTopologyFile(file, { ...processSecretSources(dirname(file)), env });
  if (!loaded.ok) {
    process.stderr.write(`${loaded.file}: ${loaded.problems.length} problem(s)\n`);
    for (const p of loaded.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
    return EXIT.usage;
  }
  const topology = loaded.topology;
  const redisAt = localRedis(topology);
  const redisBin = findRedisServer();
  const roles = mwareRoles(topology);
  const out = new Output(['cluster', 'redis', ...roles.map((r) => r.name)], {
    tty,
    write: (s) => void process.stdout.write(s),
  });
  const say = (line: string) => out.line('cluster', line);
  const dir = mkdtempSync(join(tmpdir(), 'mware-cluster-'));
  say(`${roles.length} mware instances of ${file}; data in ${dir} (removed at exit)`);

  let redis: Child | undefined;
  const instances: Instance[] = [];
  // Whatever happens to this script, its children do not outlive it.
  const killAll = () => {
    for (const c of [...instances.map((i) => i.child), redis]) c?.signal('SIGKILL');
  };
  process.on('exit', killAll);

  let stopping: Promise<number> | undefined;
  let firstSignalAt = 0;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const stop = (code: number) => {
    stopping ??= (async () => {
      say('stopping: the mware instances first (each hands over and saves its state), then Redis');
      await Promise.all(instances.map((i) => i.child.stop('SIGTERM', NODE_STOP_MS)));
      await redis?.stop('SIGTERM', 5_000);
      rmSync(dir, { recursive: true, force: true });
      say('stopped');
      return code;
    })();
    void stopping.then(finish);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stopping) {
      firstSignalAt = performance.now();
      say(`${sig}`);
      return stop(EXIT.ok);
    }
    if (performance.now() - firstSignalAt < SAME_SIGNAL_MS) return;
    say(`${sig} again: killing everything now`);
    killAll();
    rmSync(dir, { recursive: true, force: true });
    finish(EXIT.failure);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    redis = await startRedisServer({
      bin: redisBin,
      host: redisAt.host,
      port: redisAt.port,
      dir,
      onLine: (l) => out.line('redis', l),
      started: (c) => (redis = c),
    });
  } catch (err) {
    say((err as Error).message);
    stop(EXIT.failure);
    return finished;
  }
  if (stopping) {
    // Ctrl-C while Redis was starting: nothing else starts.
    await redis.stop('SIGTERM', 5_000);
    return finished;
  }
  say(`redis-server on ${redisAt.host}:${redisAt.port} (pid ${redis.pid ?? '?'})`);
  void redis.exited.then((e) => {
    if (!stopping) say(`redis-server ${describeExit(e)}: the cluster has no coordination now`);
  });

  for (const role of roles) {
    const placement = placementFor(topology, role.name);
    if (!placement || stopping) continue;
    const child = new Child(
      role.name,
      process.execPath,
      [
        MWARE_BIN,
        'start',
        '--topology',
        file,
        '--role',
        role.name,
        '--data-dir',
        join(dir, role.name),
        '--log-json',
      ],
      { env, cwd: ROOT, onLine: (l) => out.line(role.name, l) },
    );
    const url = `${role.api.tls ? 'https' : 'http'}://${placement.address}:${role.api.port}`;
    instances.push({ name: role.name, group: role.group, url, child });
    say(`${role.name} (group ${role.group}, order ${role.order}): pid ${child.pid ?? '?'}, API ${url}`);
    void child.exited.then((e: Exit) => {
      if (stopping) return;
      say(`${role.name} ${describeExit(e)}; the others run on (Ctrl-C stops them)`);
      if (instances.every((i) => !i.child.running)) {
        say('no mware instance is left');
        stop(EXIT.failure);
      }
    });
  }

  void waitForActives(instances, () => stopping !== undefined).then((actives) => {
    if (stopping) return;
    for (const line of howToWatch(instances, actives, topology, made)) say(line);
  });
  return finished;
}

/** The Redis the file names, which must be on this machine's loopback: this script starts it. */
function localRedis(t: Topology): { host: string; port: number } {
  const redis = t.coordination?.redis;
  if (!redis || !('url' in redis))
    throw new LocalClusterFailed(
      'the file has no coordination.redis.url: the local cluster runs Redis-coordinated files only',
    );
  const u = new URL(redis.url);
  const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname;
  if (!/^127\.\d+\.\d+\.\d+$/.test(host))
    throw new LocalClusterFailed(
      `coordination.redis.url is ${u.host}: the local cluster starts its own Redis, on a 127.x.x.x address`,
    );
  return { host, port: Number(u.port || 6379) };
}

/**
 * Polls the health endpoints until every running instance is ready (active or passive) and each group has its
 * active one; returns group → the active instance.
 */
async function waitForActives(instances: Instance[], stopped: () => boolean): Promise<Map<number, Instance>> {
  const groups = new Set(instances.map((i) => i.group));
  const actives = new Map<number, Instance>();
  const status = (i: Instance, path: string) =>
    fetch(`${i.url}${path}`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status,
      () => 0,
    );
  for (let ready = false; !stopped() && !ready;) {
    await new Promise((r) => setTimeout(r, 250));
    actives.clear();
    const running = instances.filter((i) => i.child.running);
    const answers = await Promise.all(
      running.map(async (i) => ({
        i,
        ready: await status(i, '/readyz'),
        active: await status(i, '/active'),
      })),
    );
    for (const a of answers) if (a.active === 200) actives.set(a.i.group, a.i);
    ready = answers.every((a) => a.ready === 200) && actives.size === groups.size;
  }
  return actives;
}

/** What to type to watch a failover, once every group has its active instance. */
function howToWatch(
  instances: Instance[],
  actives: Map<number, Instance>,
  t: Topology,
  made: Record<string, string>,
): string[] {
  const lines = [
    `every group has its active instance: ${[...actives].map(([g, i]) => `group ${g} → ${i.name}`).join(', ')}`,
  ];
  const admin = t.security.api_tokens.find((x) => x.scopes.includes('admin'));
  const first = [...actives.values()][0];
  if (!first) return lines;
  const next = instances.find((i) => i.group === first.group && i !== first);
  lines.push('to watch a failover, in another terminal:');
  if (admin && Object.values(made).includes(admin.token))
    lines.push(`  export MWARE_TOKEN=${admin.token}    # the "${admin.name}" token, made up for this run`);
  else if (admin) lines.push(`  export MWARE_TOKEN=…    # the "${admin.name}" token, from your environment`);
  lines.push(
    `  npx mware shell --url ${first.url} -c cluster    # its group: members, the active one, epochs`,
  );
  lines.push(
    `  kill -9 ${first.child.pid ?? '?'}    # ${first.name}, the active instance of group ${first.group}`,
  );
  if (next) lines.push(`  npx mware shell --url ${next.url} -c cluster    # ${next.name} has taken over`);
  lines.push(`  or watch it in a browser: ${first.url}/ui (it asks for the token)`);
  lines.push('Ctrl-C stops everything');
  return lines;
}

/** The command line of `npm run cluster`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('npm run cluster --')
    .description(
      'run every mware instance of a topology file on this machine, with a local redis-server, until Ctrl-C',
    )
    .option('--topology <file>', 'topology file (its mware instances on 127.0.0.x addresses)', DEFAULT_FILE)
    .addHelpText(
      'after',
      '\nSecrets the file takes from the environment (${env:NAME}) are made up when unset; the admin token is printed.' +
        '\nNeeds redis-server (apt-get install -y redis-server). Linux: every 127.0.0.x address is loopback.',
    )
    .exitOverride();
  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw e;
  }
  const o = program.opts<{ topology: string }>();
  try {
    // The default is the project's; a file given is where the user stood (npm runs scripts from the project root).
    const file =
      o.topology === DEFAULT_FILE
        ? join(ROOT, DEFAULT_FILE)
        : resolve(process.env.INIT_CWD ?? process.cwd(), o.topology);
    return await localCluster(file);
  } catch (err) {
    process.stderr.write(`npm run cluster: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exit(await main(process.argv));
