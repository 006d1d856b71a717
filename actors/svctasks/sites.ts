import type { Topology } from '../../topology/schema.ts';
import { mwareRoles } from '../../topology/schema.ts';
import type { Job, JobOutcome } from './runner.ts';

/**
 * The cluster as service tasks see it: which sites can run a task (those with a mware group that has `svc_tasks`,
 * in the topology's site order), which of them are live (a group of theirs has an active instance: its lease is
 * held), and how a firing is carried to another site (to the active instance of such a group, over the node channel,
 * where `/svctasks/_runner` runs it with that site's runner).
 */

/** The node-local actor that runs jobs for schedulers of any site. */
export const RUNNER_PATH = '/svctasks/_runner';

/** What the scheduler needs of the cluster (injected: a test gives a fake one). */
export interface TaskSites {
  /** Sites that can run tasks, in the topology's order. */
  readonly known: readonly string[];
  /** The known sites live now (this scheduler's own site always is). */
  live(): Promise<ReadonlySet<string>>;
  /** Runs `job` on another site; rejects when no instance there could be reached. */
  runRemote(site: string, job: Job): Promise<JobOutcome>;
}

/** What a node offers for reaching other groups (the node's routing and coordination). */
export interface ClusterPeers {
  holderOf(group: number): Promise<string | undefined>;
  /**
   * Runs `job` with the runner of node `name` (over the node channel) and resolves with its outcome; rejects when the
   * node cannot be reached in time or has no runner.
   */
  runJob(name: string, job: Job, timeoutMs: number): Promise<unknown>;
}

/** The sites with a tasks runner and, per site, their groups that have one. */
export function taskSitesOf(topology: Topology): Map<string, number[]> {
  const bySite = new Map<string, number[]>();
  const siteOfServer = new Map(topology.servers.map((s) => [s.name, s.site]));
  for (const site of topology.sites) bySite.set(site.name, []);
  for (const r of mwareRoles(topology)) {
    if (!r.svc_tasks) continue;
    const site = siteOfServer.get(r.server);
    const groups = site === undefined ? undefined : bySite.get(site);
    if (groups && !groups.includes(r.group)) groups.push(r.group);
  }
  for (const [site, groups] of bySite) if (groups.length === 0) bySite.delete(site);
  return bySite;
}

/** Slack on top of a job's deadline for carrying it and its answer. */
const CARRY_MS = 5_000;

export function clusterTaskSites(
  topology: Topology,
  ownSite: string,
  peers: ClusterPeers | undefined,
): TaskSites {
  const bySite = taskSitesOf(topology);
  const known = [...bySite.keys()];
  if (!known.includes(ownSite)) known.push(ownSite);
  const holderIn = async (site: string): Promise<string | undefined> => {
    for (const g of bySite.get(site) ?? []) {
      const h = await peers?.holderOf(g).catch(() => undefined);
      if (h !== undefined) return h;
    }
    return undefined;
  };
  return {
    known,
    async live() {
      const up = new Set<string>([ownSite]);
      await Promise.all(
        known
          .filter((s) => s !== ownSite)
          .map(async (s) => {
            if ((await holderIn(s)) !== undefined) up.add(s);
          }),
      );
      return up;
    },
    async runRemote(site, job) {
      const holder = await holderIn(site);
      if (!peers || holder === undefined)
        throw new Error(`site ${site} has no active instance with a tasks runner`);
      const timeoutMs = job.deadline_ms + CARRY_MS;
      return (await peers.runJob(holder, job, timeoutMs)) as JobOutcome;
    },
  };
}
