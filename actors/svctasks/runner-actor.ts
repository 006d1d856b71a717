import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { childOutputLog } from '../../src/child-output.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { RunnerProtocol } from './protocol.ts';
import type { Job, JobOutcome, RunnerConfig } from './runner.ts';
import { runJob } from './runner.ts';

/**
 * `/svctasks/_runner`: runs jobs with this site's runner, for the schedulers of this node and for schedulers on other
 * sites (sites.ts carries their firings here, as the node channel's `run-job` operation). Stopping it kills the runs
 * under way.
 */

export interface RunnerArgs {
  runner: RunnerConfig;
  node: string;
}

class RunnerActor implements Behavior<RunnerProtocol> {
  private readonly abort = new AbortController();
  private readonly runs = new Set<Promise<JobOutcome>>();

  constructor(
    private readonly args: RunnerArgs,
    private readonly ctx: ActorContext,
  ) {}

  get handlers(): Handlers<RunnerProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<RunnerProtocol, RunnerActor> = {
    execute(job) {
      const source = { source: 'svctask', domain: job.domain, task: job.task, site: job.site };
      const p = runJob(
        this.args.runner,
        job,
        this.abort.signal,
        this.args.node,
        childOutputLog(this.ctx.log, source),
      );
      this.runs.add(p);
      void p.finally(() => this.runs.delete(p));
      return p;
    },
  };

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.runs]);
  }
}
const HANDLERS = RunnerActor.handlers;

export const JobSchema: z.ZodType<Job> = z.strictObject({
  task: z.string().min(1),
  name: z.string(),
  domain: z.string().min(1),
  site: z.string().min(1),
  firing_at: z.number(),
  code: z.string(),
  deadline_ms: z.int().min(1).max(86_400_000),
});

export const runnerActor = defineActor<RunnerProtocol, RunnerArgs>({
  kind: 'svctask-runner',
  moduleUrl: import.meta.url,
  exportName: 'runnerActor',
  // `execute` is not public: the schedulers of this node ask it directly, and those of other sites reach it through
  // their node's channel (the forwarded `run-job` operation), so no API token can send script code to it.
  messages: {},
  create: (args, ctx) => new RunnerActor(args, ctx),
});
