import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TopologyInvalid } from '../../topology/errors.ts';
import { loadTopologyFile } from '../../topology/load.ts';
import type { Placement } from '../../topology/placement.ts';
import type { ApiToken, Topology } from '../../topology/schema.ts';
import { ComedySystem } from '../actor-system/comedy.ts';
import { EmbeddedCoordination } from '../coordination/embedded.ts';
import type { CoordinationBackend } from '../coordination/backend.ts';
import type { SelfReport } from '../cluster/membership.ts';
import { ClusterRuntime } from './cluster-runtime.ts';
import { LogFeed } from '../log/feed.ts';
import type { Log } from '../log/log.ts';
import { createLogger } from '../log/log.ts';
import { DataDirLock } from '../state/data-dir-lock.ts';
import { FileStateStore } from '../state/file-store.ts';
import type { StateStore } from '../state/store.ts';
import type { Clock } from '../supervision/clock.ts';
import { systemClock } from '../supervision/clock.ts';
import { Directory } from '../supervision/directory.ts';
import { EventStream } from '../supervision/events.ts';
import type { RuntimeEnv } from '../supervision/spec.ts';
import { ActorStats } from '../supervision/stats.ts';
import { localAdminToken } from './api-token.ts';
import { NodeStartFailed } from './errors.ts';
import type { NodeOptions } from './options.ts';
import { placeRole } from './place-role.ts';

/**
 * The `starting` stage of a node: everything it is made of, built from the topology file in an order that changes
 * nothing on a mistake. The data directory is locked before anything reads or writes it, binds a port or starts
 * an actor, so a second node started on it by mistake is refused having touched nothing; whatever was opened
 * before a failure is closed again.
 */

export interface NodeParts {
  topology: Topology;
  placement: Placement;
  dataDir: string;
  env: RuntimeEnv & { stats: ActorStats; log: Log; clock: Clock };
  lock: DataDirLock;
  store: StateStore;
  coordination: CoordinationBackend;
  /** Present in a cluster (`coordination.redis`): Redis, the node channel, the group's members. */
  cluster: ClusterRuntime | undefined;
  /** The node's own role, epoch and state, for heartbeats (set by the node once built). */
  report: { current: () => SelfReport };
  comedy: ComedySystem;
  tokens: ApiToken[];
  /** Every secret value the node knows: scrubbed from logs and from whatever leaves through the API. */
  secrets: string[];
  logs: LogFeed;
  mutexIdleMs: number | undefined;
}

export async function assembleNode(opts: NodeOptions): Promise<NodeParts> {
  const loaded = loadTopologyFile(opts.topologyFile);
  if (!loaded.ok) throw TopologyInvalid.of(loaded.file, loaded.problems);
  const topology = loaded.topology;
  const placement = placeRole(topology, opts.role, loaded.file);
  const dataDir = resolve(opts.dataDir ?? join('data', placement.role.name));
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new NodeStartFailed(
      `cannot create the data directory ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  const lock = await DataDirLock.acquire(dataDir, placement.role.name);
  let store: FileStateStore | undefined;
  let cluster: ClusterRuntime | undefined;
  try {
    const clock = opts.clock ?? systemClock;
    const configured = topology.security.api_tokens;
    const local = configured.length === 0 ? localAdminToken(dataDir) : undefined;
    const tokens: ApiToken[] = local
      ? [{ name: 'local-admin', token: local.token, scopes: ['admin'] }]
      : configured;
    const secrets = [...loaded.secrets, ...tokens.map((t) => t.token)];
    const logs = new LogFeed();
    const log =
      opts.log ??
      createLogger({
        node: placement.role.name,
        group: placement.group,
        level: opts.logLevel,
        pretty: opts.logPretty,
        destination: opts.logDestination,
        secrets,
        feed: logs,
      });
    if (local)
      log.info(
        { file: local.file },
        'no api_tokens configured: the admin token for the shell and the API is in this file',
      );
    const report = { current: (): SelfReport => ({ role: 'unknown', epoch: null, state: 'starting' }) };
    let coordination: CoordinationBackend;
    let stateStore: StateStore;
    if (topology.coordination) {
      // The cluster secret is required with coordination (validated): it authenticates the node channel.
      cluster = new ClusterRuntime(topology, placement, {
        secret: topology.security.cluster_secret ?? '',
        clock,
        log,
        report: () => report.current(),
      });
      coordination = cluster.coordination;
      stateStore = cluster.store;
    } else {
      store = await FileStateStore.open({ dir: join(dataDir, 'state') });
      const opened = store;
      coordination = new EmbeddedCoordination(dataDir, placement.role.name, clock, () =>
        opened.highestEpoch(),
      );
      stateStore = store;
    }
    return {
      topology,
      placement,
      dataDir,
      env: {
        clock,
        random: Math.random,
        events: new EventStream(),
        directory: new Directory(clock),
        log,
        stats: new ActorStats(),
      },
      lock,
      store: stateStore,
      coordination,
      cluster,
      report,
      comedy: ComedySystem.create(log),
      tokens,
      secrets,
      logs,
      mutexIdleMs: opts.mutexIdleMs,
    };
  } catch (err) {
    await store?.close().catch(() => undefined);
    await cluster?.close().catch(() => undefined);
    await lock.release();
    throw err;
  }
}
