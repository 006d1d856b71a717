import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { SerializedError } from '../../src/errors.ts';
import type { Deviation } from '../../src/monitor/deviation.ts';
import type { PgLimits } from '../../src/pg/db.ts';
import type { TimerHandle } from '../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import type { Monitor, Topology } from '../../topology/schema.ts';
import type { Check } from './check.ts';
import type { Observation, Transition } from './conditions.ts';
import { Conditions } from './conditions.ts';
import { fsyncCheck } from './fsync-check.ts';
import { globalNames } from './group-names.ts';
import { megacoCheck } from './megaco-check.ts';
import { namesCheck } from './names-check.ts';
import type { MonitorProtocol, MonitorStatus, ObservedCondition } from './protocol.ts';
import { sgCheck } from './sg-check.ts';

/**
 * A monitor (06-services.md "Monitoring services"), `/services/monitors/<name>`: every `interval_ms` a round of its
 * probes, each watched condition raised after `confirm` failing rounds and cleared by a good one. It answers
 * `deviations` for the system state, and tells each raise and clear as a `monitor` notice (a raise at warn or
 * error level becomes an SNMP trap through the syslog → SNMP service). Rounds never overlap; a round's failures
 * are observations, never the actor's own failure.
 */

export interface MonitorArgs {
  config: Monitor;
  /** For `names` monitors: where each group's members answer `/active`. */
  topology: Topology;
  /** The node's notices (its event stream, with this actor's path). */
  notice: (n: ServiceNotice) => void;
  /** True while this node leads its group, read at the moment (the sg monitor deletes only then). */
  leading: () => boolean;
  epoch: () => number;
  /** Deadlines on the registrar's database (tests shorten them). */
  pgLimits?: PgLimits;
}

/** How long a stop waits for a round under way. */
const STOP_WAIT_MS = 1_000;

class MonitorActor implements Behavior<MonitorProtocol> {
  private readonly conditions: Conditions;
  private readonly check: Check;
  private last: Observation[] = [];
  private rounds = 0;
  private lastRound: { at: number; ms: number } | undefined;
  private running: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly args: MonitorArgs,
    private readonly ctx: ActorContext,
  ) {
    this.conditions = new Conditions(ctx.path, args.config.confirm);
    this.check = buildCheck(args, ctx);
  }

  start(): this {
    this.schedule(0);
    return this;
  }

  get handlers(): Handlers<MonitorProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<MonitorProtocol, MonitorActor> = {
    deviations() {
      return this.conditions.deviations();
    },
    status() {
      return this.status();
    },
    async check() {
      await this.round();
      return this.status();
    },
  };

  problem(): SerializedError | undefined {
    return this.check.problem?.();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined;
      void this.round().finally(() => this.schedule(this.args.config.interval_ms));
    }, ms);
  }

  /** One round; a round asked for while another runs waits for it and then runs (never two at once). */
  private round(): Promise<void> {
    const prev = this.running ?? Promise.resolve();
    const next = prev.then(() => this.runRound());
    this.running = next;
    void next.finally(() => {
      if (this.running === next) this.running = undefined;
    });
    return next;
  }

  /** Never rejects: a probe never throws, and a bug here must neither stop the rounds nor raise a deviation. */
  private async runRound(): Promise<void> {
    try {
      await this.roundOnce();
    } catch (err) {
      this.ctx.log.error({ err }, 'monitor round failed');
    }
  }

  private async roundOnce(): Promise<void> {
    if (this.stopped) return;
    const start = this.ctx.clock.now();
    const observations: Observation[] = await this.check.round();
    if (this.stopped) return;
    const transitions = this.conditions.update(observations, this.ctx.clock.wallNow());
    this.last = observations;
    this.rounds++;
    this.lastRound = { at: this.ctx.clock.wallNow(), ms: Math.round(this.ctx.clock.now() - start) };
    for (const t of transitions) this.tell(t);
    await this.check.after?.(transitions);
  }

  private tell(t: Transition): void {
    const d: Deviation = t.deviation;
    this.args.notice({
      type: 'notice',
      topic: 'monitor',
      event: t.type,
      level: t.type === 'cleared' ? 'info' : d.severity === 'critical' ? 'error' : 'warn',
      message: t.type === 'cleared' ? `cleared: ${d.message}` : d.message,
      data: { monitor: this.args.config.name, kind: d.kind, key: t.key, since: d.since },
    });
  }

  status(): MonitorStatus {
    const c = this.args.config;
    const conditions: ObservedCondition[] = this.last.map((o) => ({
      key: o.key,
      failing: o.failing,
      failures: this.conditions.failures(o.key),
      raised: this.conditions.isRaised(o.key),
      message: o.message,
    }));
    return {
      name: c.name,
      kind: c.kind,
      interval_ms: c.interval_ms,
      confirm: c.confirm,
      rounds: this.rounds,
      last_round: this.lastRound ? new Date(this.lastRound.at).toISOString() : null,
      last_round_ms: this.lastRound?.ms ?? null,
      conditions,
      detail: this.check.detail?.() ?? {},
    };
  }

  /**
   * Stops scheduling; waits a little for a round under way (a DELETE in flight should be seen through), but not for
   * its slowest probe: the round's results are dropped anyway.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    const running = this.running;
    if (!running) return;
    let timer: TimerHandle | undefined;
    await Promise.race([
      running.catch(() => undefined),
      new Promise<void>((r) => (timer = this.ctx.clock.setTimeout(r, STOP_WAIT_MS))),
    ]);
    if (timer) this.ctx.clock.clearTimeout(timer);
  }
}
const HANDLERS = MonitorActor.handlers;

function buildCheck(args: MonitorArgs, ctx: ActorContext): Check {
  const c = args.config;
  switch (c.kind) {
    case 'names':
      return namesCheck(globalNames(c, args.topology));
    case 'megaco':
      return megacoCheck(c);
    case 'fsync':
      return fsyncCheck(c, ctx.clock);
    case 'sg': {
      const r = c.registrar;
      return sgCheck(c, {
        registrar: {
          host: r.host,
          port: r.port,
          database: r.database,
          user: r.user,
          ...(r.password !== undefined && { password: r.password }),
        },
        leading: args.leading,
        epoch: args.epoch,
        notice: args.notice,
        clock: ctx.clock,
        ...(args.pgLimits && { limits: args.pgLimits }),
      });
    }
    default: {
      const never: never = c;
      return never;
    }
  }
}

export const monitorActor = defineActor<MonitorProtocol, MonitorArgs>({
  kind: 'monitor',
  moduleUrl: import.meta.url,
  exportName: 'monitorActor',
  messages: {
    deviations: {
      payload: z.null(),
      scope: 'read',
      summary: 'The raised conditions as system-state deviations (empty: all watched things are well)',
    },
    status: {
      payload: z.null(),
      scope: 'read',
      summary:
        'Rounds, the conditions the last round saw (failing, consecutive failures, raised), kind details',
    },
    check: {
      payload: z.null(),
      scope: 'admin',
      summary: 'Runs a round of probes now and answers the status it leaves',
    },
  },
  create: (args, ctx) => new MonitorActor(args, ctx).start(),
});
