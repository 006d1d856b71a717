import { runnerActor } from '../actors/svctasks/runner-actor.ts';
import { schedulerActor } from '../actors/svctasks/scheduler-actor.ts';
import { TASKS_EVENT_TOPIC } from '../actors/svctasks/protocol.ts';
import { runJob } from '../actors/svctasks/runner.ts';
import { clusterTaskSites } from '../actors/svctasks/sites.ts';
import type { SvcTask } from '../actors/svctasks/task.ts';
import { readTaskFile } from '../actors/svctasks/task-file.ts';
import { ACTOR_MODES } from '../actors/modes.ts';
import { childOutputLog } from '../src/child-output.ts';
import { actorChild } from '../src/actor-system/actor-child.ts';
import type { GroupDeps } from '../src/node/group.ts';
import { noticeTo } from '../src/node/group.ts';
import type { ChildSpec } from '../src/supervision/spec.ts';
import { supervisorChild } from '../src/supervision/supervisor-child.ts';

/**
 * `/svctasks`: service tasks (06-services.md), when the role's topology gives `svc_tasks`:
 * - `/svctasks/_runner` runs firings with this site's runner, for this group's schedulers and other sites';
 * - `/svctasks/<domain>`: one scheduler per domain this group serves (the scheduler is per domain, as the spec has
 *   it; its own subtree rather than under `/domains/<domain>`, which is one leaf actor today, so that the domain
 *   actors keep their shape and a passive node routes `/svctasks/<domain>` to the domain's group like `/domains`).
 * The tasks file is read here, each time the group's subtrees start: a file that cannot be read leaves the schedulers
 * with their API tasks and raises an error notice, rather than stopping the group.
 */
export function svcTasksChild(deps: GroupDeps): ChildSpec | undefined {
  const config = deps.placement.role.svc_tasks;
  if (!config) return undefined;
  const notify = noticeTo(deps.events, deps.clock, '/svctasks');
  let fileTasks: SvcTask[] = [];
  if (config.file !== undefined) {
    try {
      fileTasks = readTaskFile(config.file);
    } catch (err) {
      notify({
        type: 'notice',
        topic: TASKS_EVENT_TOPIC,
        event: 'file-invalid',
        level: 'error',
        message: (err as Error).message,
      });
    }
    const served = new Set(deps.placement.domains);
    const unknown = fileTasks.filter((t) => !deps.listedDomains.includes(t.domain));
    if (unknown.length)
      notify({
        type: 'notice',
        topic: TASKS_EVENT_TOPIC,
        event: 'file-unknown-domain',
        level: 'warn',
        message: `tasks of domains not in the topology are ignored: ${unknown.map((t) => `${t.domain}/${t.id}`).join(', ')}`,
      });
    fileTasks = fileTasks.filter((t) => served.has(t.domain));
  }
  const sites = clusterTaskSites(deps.topology, deps.placement.site, deps.peers);
  const offSite = fileTasks.filter((t) => t.sites.some((s) => !sites.known.includes(s)));
  if (offSite.length)
    notify({
      type: 'notice',
      topic: TASKS_EVENT_TOPIC,
      event: 'file-unknown-site',
      level: 'warn',
      message: `tasks naming sites without a tasks runner (never live for them): ${offSite.map((t) => `${t.domain}/${t.id}`).join(', ')}; sites with one: ${sites.known.join(', ')}`,
    });
  // A script's output lines become log records of the node (src/child-output.ts), with their task as source.
  const runLocal = (job: Parameters<typeof runJob>[1], stop: AbortSignal) =>
    runJob(
      config.runner,
      job,
      stop,
      deps.placement.role.name,
      childOutputLog(deps.log, { source: 'svctask', domain: job.domain, task: job.task, site: job.site }),
    );
  return supervisorChild({
    id: 'svctasks',
    kind: 'svctasks-supervisor',
    flags: {
      strategy: 'one_for_one',
      intensity: 20,
      periodMs: 10_000,
      backoff: { initialMs: 200, maxMs: 5_000 },
    },
    children: [
      actorChild(deps.runtime, {
        id: '_runner',
        kind: runnerActor,
        args: { runner: config.runner, node: deps.placement.role.name },
        mode: ACTOR_MODES.services,
        shutdown: 5_000,
      }),
      ...deps.placement.domains.map((domain) =>
        actorChild(deps.runtime, {
          id: domain,
          kind: schedulerActor,
          args: {
            domain,
            site: deps.placement.site,
            node: deps.placement.role.name,
            config,
            fileTasks: fileTasks.filter((t) => t.domain === domain),
            state: deps.state,
            epoch: deps.epoch,
            sites,
            runLocal,
            notify: noticeTo(deps.events, deps.clock, `/svctasks/${domain}`),
          },
          mode: ACTOR_MODES.services,
          shutdown: 5_000,
        }),
      ),
    ],
  });
}
