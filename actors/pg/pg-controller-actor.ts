import { z } from 'zod';
import { pgDeviations } from './deviations.ts';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { serializeError } from '../../src/errors.ts';
import type { PgLimits } from '../../src/pg/db.ts';
import { pgQueryOnce } from '../../src/pg/db.ts';
import type { SshPool } from '../../src/ssh/pool.ts';
import type { Clock, TimerHandle } from '../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import type { PgBoard } from './board.ts';
import type { DecisionLog } from './decision-log.ts';
import type { Memory, PgAction } from './decide.ts';
import { decide } from './decide.ts';
import { PgActionFailed, PgNotLeading, PgSwitchoverRefused } from './errors.ts';
import { parseLsn } from './lsn.ts';
import type {
  PgChangeKind,
  PgClusterStatus,
  PgControllerPhase,
  PgControllerProtocol,
  PgFailoverRecord,
  PgRejoinMethod,
  SwitchoverReply,
  SwitchoverRequest,
} from './protocol.ts';
import { pgPrimaryKey } from './protocol.ts';
import type { RefereeCheck } from './referee.ts';
import { PgHost } from './remote.ts';
import type { PgClusterSettings, PgServerSettings } from './settings.ts';

/**
 * The decision actor of one replicated cluster, `/pg/<key>/controller` (04-postgres.md). It reads its servers' looks
 * from the board, decides one step ({@link decide}) and carries it out: promote, fence, rejoin, rebuild. Every step
 * is taken under the group's fencing epoch — checked before acting, written with the decision to
 * `pgctrl_<key>.log` and to the event stream, and carried by the saved state, which the store refuses from a deposed
 * epoch. The current primary is that saved state (`pg/<key>`): the cluster-wide record every node reads.
 */

export interface PgControllerArgs {
  cluster: PgClusterSettings;
  board: PgBoard;
  ssh: SshPool;
  limits: PgLimits;
  epoch: () => number;
  leading: () => boolean;
  notify: (n: ServiceNotice) => void;
  log: DecisionLog;
  referee: RefereeCheck | undefined;
  /** Asks a server's actor for a fresh look (resolves when it is on the board). */
  probe: (server: string) => Promise<void>;
  clock: Clock;
}

/** What the controller saves: the published primary and its history. */
export interface PgSaved extends Memory {
  history: PgFailoverRecord[];
}

const HISTORY_MAX = 50;
/** A server whose action failed is left alone this long before the next try. */
const COOL_MS = 30_000;
/** A promoted server must accept writes within this. */
const WRITABLE_MS = 30_000;
/** The referee is asked at most this often while all is well (always afresh before a host-lost failover). */
const REFEREE_EVERY_MS = 5_000;

class PgControllerActor implements Behavior<PgControllerProtocol> {
  private readonly hosts: Map<string, PgHost>;
  private memory: PgSaved;
  private phase: PgControllerPhase = 'starting';
  private reason: string | null = null;
  private busy = false;
  private wakeAgain = false;
  private stopped = false;
  private timer: TimerHandle | undefined;
  private readonly cooling = new Map<string, number>();
  private referee: boolean | null = null;
  private refereeAt = -Infinity;
  private readonly since: number;
  private readonly unsubscribe: () => void;
  private lastSavedLsnAt = -Infinity;

  constructor(
    private readonly a: PgControllerArgs,
    private readonly ctx: ActorContext<PgSaved>,
  ) {
    this.hosts = new Map(a.cluster.servers.map((s) => [s.name, new PgHost(a.ssh, s)]));
    this.memory = ctx.state.restored ?? {
      primary: null,
      primaryLsn: null,
      primaryTimeline: null,
      history: [],
    };
    this.since = a.clock.now();
    this.unsubscribe = a.board.onPost(() => this.wake());
    this.tick();
  }

  get handlers(): Handlers<PgControllerProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<PgControllerProtocol, PgControllerActor> = {
    status() {
      return this.status();
    },
    deviations() {
      return pgDeviations(this.status(), this.ctx.path, new Date(this.a.clock.wallNow()).toISOString());
    },
    switchover(req) {
      return this.switchover(req);
    },
  };

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) this.a.clock.clearTimeout(this.timer);
  }

  private status(): PgClusterStatus {
    return {
      key: this.a.cluster.key,
      phase: this.phase,
      reason: this.reason,
      primary: this.memory.primary,
      epoch: this.a.leading() ? this.a.epoch() : null,
      referee:
        this.a.cluster.referee === undefined
          ? null
          : { address: this.a.cluster.referee, reachable: this.referee },
      servers: this.a.board.statuses(this.memory.primary),
      history: this.memory.history,
    };
  }

  private tick(): void {
    if (this.stopped) return;
    this.timer = this.a.clock.setTimeout(() => {
      this.wake();
      this.tick();
    }, this.a.cluster.probeMs);
  }

  /** One decision at a time; a look posted meanwhile is decided on right after. */
  private wake(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.wakeAgain = true;
      return;
    }
    this.busy = true;
    void this.step()
      .catch((err: unknown) => this.ctx.log.error({ err: serializeError(err) }, 'pg controller step failed'))
      .finally(() => {
        this.busy = false;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  private async step(): Promise<void> {
    if (!this.a.leading()) return;
    this.remember();
    const servers = this.a.board.all();
    const p = servers.find((s) => s.name === this.memory.primary);
    const primaryServing = p !== undefined && p.db === 'up' && p.recovery === false;
    await this.checkReferee(!primaryServing);
    const now = this.a.clock.now();
    for (const [name, until] of this.cooling) if (until <= now) this.cooling.delete(name);
    const action = decide({
      servers,
      memory: this.memory,
      now,
      since: this.since,
      confirmMs: this.a.cluster.confirmMs,
      maxLagBytes: this.a.cluster.maxLagBytes,
      referee: this.a.referee ? this.referee : null,
      cooling: new Set(this.cooling.keys()),
    });
    await this.act(action);
  }

  /** Keeps the primary's last position (the lag limit of a failover is measured from it). */
  private remember(): void {
    const p = this.memory.primary === null ? undefined : this.a.board.get(this.memory.primary);
    if (!p || p.db !== 'up' || p.recovery !== false || p.current === null) return;
    this.memory.primaryLsn = p.current;
    this.memory.primaryTimeline = p.timeline;
    const now = this.a.clock.now();
    if (now - this.lastSavedLsnAt >= 10_000) {
      this.lastSavedLsnAt = now;
      void this.save().catch(() => undefined);
    }
  }

  private async checkReferee(fresh: boolean): Promise<void> {
    if (!this.a.referee) return;
    const now = this.a.clock.now();
    if (!fresh && now - this.refereeAt < REFEREE_EVERY_MS) return;
    this.refereeAt = now;
    this.referee = await this.a.referee();
  }

  private async act(action: PgAction): Promise<void> {
    switch (action.do) {
      case 'wait':
        this.setPhase(action.phase, action.reason);
        return;
      case 'adopt':
        await this.adopt(action.primary, action.reason);
        return;
      case 'failover':
        await this.failover(action.from, action.to, action.cause, action.lagBytes);
        return;
      case 'fence':
        await this.guarded(action.server, () => this.fence(action.server, action.reason));
        return;
      case 'rejoin':
        await this.guarded(action.server, () => this.rejoin(action.server).then(() => undefined));
        return;
      case 'build':
        await this.guarded(action.server, () => this.build(action.server));
        return;
      case 'repair':
        await this.guarded(action.demote, () => this.repair(action.keep, action.demote));
        return;
      default: {
        const never: never = action;
        return never;
      }
    }
  }

  /** Runs an action on a server; a failure is reported and the server left alone for a while. */
  private async guarded(server: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.cooling.set(server, this.a.clock.now() + COOL_MS);
      await this.decision('action-failed', 'error', `${errorWords(err)}; next try in ${COOL_MS / 1000} s`, {
        server,
      });
    }
  }

  private setPhase(phase: PgControllerPhase, reason: string | null): void {
    // Reasons that only count time on are the same reason: logged once.
    const words = (r: string | null) => r?.replace(/\d+/g, '#') ?? null;
    const changed = phase !== this.phase || words(reason) !== words(this.reason);
    this.phase = phase;
    this.reason = reason;
    // A wait is a decision too when it changes: an operator sees why nothing happens (isolated, lag too high).
    if (changed && phase !== 'watching' && phase !== 'starting')
      void this.decision('waiting', phase === 'isolated' ? 'warn' : 'info', reason ?? phase, {});
  }

  private async adopt(primary: string, reason: string): Promise<void> {
    this.requireLeading();
    const o = this.a.board.get(primary);
    const outside = this.memory.primary !== null;
    this.memory = {
      ...this.memory,
      primary,
      primaryLsn: o?.current ?? null,
      primaryTimeline: o?.timeline ?? null,
    };
    await this.save();
    this.setPhase('watching', null);
    await this.decision(
      'primary-adopted',
      outside ? 'warn' : 'info',
      `${primary} is the primary: ${reason}`,
      {
        primary,
      },
    );
    this.publish(primary);
  }

  private async failover(
    from: string | null,
    to: string,
    cause: 'postmaster-dead' | 'host-lost',
    lagBytes: number | null,
  ): Promise<void> {
    this.requireLeading();
    const t0 = this.a.clock.now();
    this.setPhase('failing-over', `promoting ${to}${from ? ` in place of ${from}` : ''} (${cause})`);
    await this.decision(
      'failover',
      'warn',
      `promoting ${to}${from ? ` in place of ${from}` : ''}: ${causeWords(cause)}`,
      {
        from,
        to,
        cause,
        lag_bytes: lagBytes,
      },
    );
    try {
      await this.promote(to);
    } catch (err) {
      this.cooling.set(to, this.a.clock.now() + COOL_MS);
      await this.decision('failover-failed', 'error', `could not promote ${to}: ${errorWords(err)}`, { to });
      this.setPhase('no-primary', `promoting ${to} failed: ${errorWords(err)}`);
      return;
    }
    await this.changed(cause, from, to, t0, lagBytes);
  }

  /** The new primary accepts writes: record, save (under the epoch), publish, and prepare for the rejoin. */
  private async changed(
    kind: PgChangeKind,
    from: string | null,
    to: string,
    t0: number,
    lagBytes: number | null,
  ): Promise<PgFailoverRecord> {
    const ms = Math.round(this.a.clock.now() - t0);
    const record: PgFailoverRecord = {
      at: this.a.clock.wallNow(),
      kind,
      from,
      to,
      epoch: this.a.epoch(),
      ms,
      lag_bytes: lagBytes,
      rejoin: null,
    };
    const look = await this.whereIs(to).catch(() => null);
    this.memory = {
      primary: to,
      primaryLsn: look?.lsn ?? null,
      primaryTimeline: look?.timeline ?? null,
      history: [...this.memory.history, record].slice(-HISTORY_MAX),
    };
    await this.save();
    this.publish(to);
    await this.decision('primary-changed', 'warn', `${to} is the primary (accepting writes after ${ms} ms)`, {
      from,
      to,
      kind,
      ms,
    });
    this.setPhase('watching', null);
    await this.a.probe(to).catch(() => undefined);
    return record;
  }

  /** `pg_promote()` on the standby, else `pg_ctl promote` over SSH, else the trigger file; then until writable. */
  private async promote(name: string): Promise<void> {
    const s = this.server(name);
    try {
      await pgQueryOnce(s.db, 'SELECT pg_promote(true, 30)', [], {
        ...this.a.limits,
        queryTimeoutMs: 35_000,
        statementTimeoutMs: 34_000,
      });
    } catch (viaSql) {
      await this.decision(
        'promote-fallback',
        'warn',
        `pg_promote() failed (${errorWords(viaSql)}); using pg_ctl promote`,
        {
          server: name,
        },
      );
      const host = this.host(name);
      try {
        await host.promote();
      } catch (viaCtl) {
        if (!(await host.touchSignalFile())) throw viaCtl;
        await this.decision('promote-fallback', 'warn', `pg_ctl promote failed; trigger file written`, {
          server: name,
        });
      }
    }
    await this.untilWritable(s);
  }

  private async untilWritable(s: PgServerSettings): Promise<void> {
    const deadline = this.a.clock.now() + WRITABLE_MS;
    for (;;) {
      try {
        // txid_current() assigns a transaction id: only a server that accepts writes can.
        await pgQueryOnce(s.db, 'SELECT txid_current()', [], this.a.limits);
        return;
      } catch (err) {
        if (this.a.clock.now() > deadline)
          throw new PgActionFailed(
            `${s.name} did not accept writes within ${WRITABLE_MS} ms: ${errorWords(err)}`,
            {
              details: { step: 'writable', server: s.name },
            },
          );
        await this.sleep(50);
      }
    }
  }

  private async fence(server: string, reason: string): Promise<void> {
    this.requireLeading();
    await this.decision('fence', 'warn', `stopping ${server} at once: ${reason}`, { server });
    await this.host(server).stop('immediate');
    await this.a.probe(server).catch(() => undefined);
  }

  /** A stopped server becomes a standby of the primary: pg_rewind, else a fresh base backup. */
  private async rejoin(server: string): Promise<PgRejoinMethod> {
    this.requireLeading();
    const primary = this.primarySettings();
    const t0 = this.a.clock.now();
    this.setPhase('rejoining', `${server} rejoins as a standby of ${primary.name}`);
    const host = this.host(server);
    await host.stop('fast');
    // Without a checkpoint after the promotion, pg_rewind reads the old timeline in the source's control file and
    // can report that no rewind is needed.
    await pgQueryOnce(primary.db, 'CHECKPOINT', [], {
      ...this.a.limits,
      statementTimeoutMs: 120_000,
      queryTimeoutMs: 121_000,
    });
    let method: PgRejoinMethod = 'rewind';
    let detail: string | undefined;
    try {
      try {
        method = (await host.rewind(primary)).rewound ? 'rewind' : 'none';
      } catch (err) {
        detail = `pg_rewind failed (${errorWords(err)}); rebuilt by pg_basebackup`;
        await this.decision('rewind-failed', 'warn', `${server}: ${detail}`, { server });
        method = 'basebackup';
        await host.rebuild(primary, stamp(this.a.clock.wallNow()));
      }
      await host.followPrimary(primary);
      await host.start();
    } catch (err) {
      // The failover record says the rejoin failed, and how far it got; the decision loop tries again later.
      const ms = Math.round(this.a.clock.now() - t0);
      this.noteRejoin(server, { method, ok: false, ms, detail: errorWords(err) });
      await this.save().catch(() => undefined);
      throw err;
    }
    const ms = Math.round(this.a.clock.now() - t0);
    this.noteRejoin(server, { method, ok: true, ms, ...(detail !== undefined && { detail }) });
    await this.save();
    await this.decision(
      'rejoined',
      'info',
      `${server} rejoined as a standby of ${primary.name} by ${method} in ${ms} ms`,
      {
        server,
        method,
        ms,
      },
    );
    this.setPhase('watching', null);
    await this.a.probe(server).catch(() => undefined);
    return method;
  }

  private async build(server: string): Promise<void> {
    this.requireLeading();
    const primary = this.primarySettings();
    const t0 = this.a.clock.now();
    this.setPhase('repairing', `building ${server} as a standby of ${primary.name}`);
    const host = this.host(server);
    await host.stop('fast');
    const aside = await host.rebuild(primary, stamp(this.a.clock.wallNow()));
    await host.followPrimary(primary);
    await host.start();
    await this.decision('standby-built', 'info', `${server} built from a base backup of ${primary.name}`, {
      server,
      ms: Math.round(this.a.clock.now() - t0),
      kept_aside: aside,
    });
    this.setPhase('watching', null);
    await this.a.probe(server).catch(() => undefined);
  }

  private async repair(keep: string, demote: string): Promise<void> {
    this.requireLeading();
    const t0 = this.a.clock.now();
    this.setPhase('repairing', `two primaries: keeping ${keep}, rebuilding ${demote}`);
    await this.decision(
      'two-primaries',
      'warn',
      `${keep} and ${demote} both run as primaries: keeping ${keep} (higher timeline or position)`,
      {
        keep,
        demote,
      },
    );
    this.memory = { ...this.memory, primary: keep };
    const record = await this.changed('startup-repair', demote, keep, t0, null);
    const host = this.host(demote);
    await host.stop('fast');
    const t1 = this.a.clock.now();
    const aside = await host.rebuild(this.server(keep), stamp(this.a.clock.wallNow()));
    await host.followPrimary(this.server(keep));
    await host.start();
    record.rejoin = {
      method: 'basebackup',
      ok: true,
      ms: Math.round(this.a.clock.now() - t1),
      detail: `old data kept in ${aside}`,
    };
    await this.save();
    await this.decision('rejoined', 'info', `${demote} rebuilt as a standby of ${keep}`, {
      server: demote,
      kept_aside: aside,
    });
    await this.a.probe(demote).catch(() => undefined);
  }

  /** Planned: the target catches up, the primary stops cleanly, the target is promoted, the old primary rejoins. */
  private async switchover(req: SwitchoverRequest): Promise<SwitchoverReply> {
    const from = this.memory.primary;
    const to = req.server;
    if (!this.a.leading()) throw new PgNotLeading('this node is not the active instance of its group');
    if (!this.a.cluster.servers.some((s) => s.name === to))
      throw new PgSwitchoverRefused(`no server ${to} in cluster ${this.a.cluster.key}`, {
        details: { known: this.a.cluster.servers.map((s) => s.name) },
      });
    if (from === null)
      throw new PgSwitchoverRefused(`cluster ${this.a.cluster.key} has no primary to switch from`);
    if (from === to) throw new PgSwitchoverRefused(`${to} is already the primary`);
    const target = this.a.board.get(to);
    if (!target || target.db !== 'up' || target.recovery !== true)
      throw new PgSwitchoverRefused(`${to} is not a running standby`);
    if (this.busy && this.phase !== 'watching')
      throw new PgSwitchoverRefused(`the controller is busy (${this.phase}): try again`);
    // Holding `busy` keeps the decision loop out until the switchover has ended.
    while (this.busy) await this.sleep(20);
    this.busy = true;
    try {
      return await this.runSwitchover(from, to, req.timeout_ms ?? 30_000);
    } finally {
      this.busy = false;
      this.wake();
    }
  }

  private async runSwitchover(from: string, to: string, timeoutMs: number): Promise<SwitchoverReply> {
    const t0 = this.a.clock.now();
    this.setPhase('switching-over', `switching the primary from ${from} to ${to}`);
    await this.decision('switchover', 'warn', `switchover from ${from} to ${to} asked`, { from, to });
    const old = this.host(from);
    // 1. The target catches up with the running primary (so the clean stop below is short).
    const head = (await this.whereIs(from)).lsn;
    await this.untilReplayed(to, head, timeoutMs, 'the target did not catch up with the primary');
    // 2. A clean stop: the primary's walsenders send all WAL, up to its shutdown checkpoint, before they exit.
    await old.stop('fast');
    const end = parseLsn(await old.checkpointLsn());
    try {
      await this.untilReplayed(to, end, 10_000, 'the target did not receive the primary’s last WAL');
    } catch (err) {
      // Nothing was promoted: the old primary goes back to work.
      await old.start().catch(() => undefined);
      this.setPhase('watching', null);
      throw err;
    }
    // 3. Promote; 4. the old primary follows.
    await this.promote(to);
    const record = await this.changed('switchover', from, to, t0, 0);
    const method = await this.rejoin(from);
    return { from, to, ms: record.ms, rejoin: method };
  }

  private async untilReplayed(
    server: string,
    lsn: number | null,
    timeoutMs: number,
    words: string,
  ): Promise<void> {
    if (lsn === null) return;
    const deadline = this.a.clock.now() + timeoutMs;
    for (;;) {
      const at = await this.replayedOn(server).catch(() => null);
      if (at !== null && at >= lsn) return;
      if (this.a.clock.now() > deadline)
        throw new PgSwitchoverRefused(`${words} within ${timeoutMs} ms (${server})`, { details: { server } });
      await this.sleep(50);
    }
  }

  private async replayedOn(server: string): Promise<number | null> {
    const r = await pgQueryOnce<{ lsn: string | null }>(
      this.server(server).db,
      'SELECT pg_last_wal_replay_lsn()::text AS lsn',
      [],
      this.a.limits,
    );
    return parseLsn(r.rows[0]?.lsn ?? null);
  }

  private async whereIs(server: string): Promise<{ lsn: number | null; timeline: number | null }> {
    const r = await pgQueryOnce<{ lsn: string; tli: number }>(
      this.server(server).db,
      `SELECT pg_current_wal_lsn()::text AS lsn, ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tli`,
      [],
      this.a.limits,
    );
    return { lsn: parseLsn(r.rows[0]?.lsn ?? null), timeline: r.rows[0]?.tli ?? null };
  }

  private noteRejoin(server: string, rejoin: NonNullable<PgFailoverRecord['rejoin']>): void {
    const record = [...this.memory.history].reverse().find((r) => r.from === server && r.rejoin === null);
    if (record) record.rejoin = rejoin;
  }

  private async save(): Promise<void> {
    await this.ctx.state.save(this.memory);
  }

  /** The cluster's primary for every actor of the node (and, through the saved state, of the cluster). */
  private publish(primary: string): void {
    this.a.notify({
      type: 'notice',
      topic: 'pg',
      event: 'primary',
      level: 'info',
      message: `cluster ${this.a.cluster.key}: primary ${primary}`,
      epoch: this.a.epoch(),
      data: { key: this.a.cluster.key, primary, state_key: pgPrimaryKey(this.a.cluster.key) },
    });
  }

  private async decision(
    event: string,
    level: ServiceNotice['level'],
    message: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    const epoch = this.a.epoch();
    this.a.notify({
      type: 'notice',
      topic: 'pg',
      event,
      level,
      message,
      epoch,
      data: { key: this.a.cluster.key, ...data },
    });
    await this.a.log.write(this.a.clock.wallNow(), epoch, event, message, data);
  }

  private requireLeading(): void {
    if (!this.a.leading()) throw new PgNotLeading('this node is no longer the active instance of its group');
  }

  private primarySettings(): PgServerSettings {
    if (this.memory.primary === null) throw new PgActionFailed('no primary to follow');
    return this.server(this.memory.primary);
  }

  private server(name: string): PgServerSettings {
    const s = this.a.cluster.servers.find((x) => x.name === name);
    if (!s) throw new PgActionFailed(`no server ${name} in cluster ${this.a.cluster.key}`);
    return s;
  }

  private host(name: string): PgHost {
    const h = this.hosts.get(name);
    if (!h) throw new PgActionFailed(`no server ${name} in cluster ${this.a.cluster.key}`);
    return h;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.a.clock.setTimeout(r, ms));
  }
}
const HANDLERS = PgControllerActor.handlers;

function causeWords(cause: 'postmaster-dead' | 'host-lost'): string {
  return cause === 'postmaster-dead'
    ? 'its postgres is dead on a live host (port refused, SSH answered, no postmaster)'
    : 'neither its database nor SSH answered for the confirmation window, and the referee did';
}

function errorWords(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stamp(wall: number): string {
  return new Date(wall).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

export const pgControllerActor = defineActor<PgControllerProtocol, PgControllerArgs, PgSaved>({
  kind: 'pg-controller',
  moduleUrl: import.meta.url,
  exportName: 'pgControllerActor',
  stateKey: (args) => pgPrimaryKey(args.cluster.key),
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary: 'Primary, standbys, lag, phase and failover history',
    },
    deviations: {
      payload: z.null(),
      scope: 'read',
      summary:
        'Its deviations for the system state: no primary, isolated, a failover under way, a server down',
    },
    switchover: {
      payload: z.strictObject({
        server: z.string().min(1),
        timeout_ms: z.int().min(100).max(600_000).optional(),
      }),
      scope: 'admin',
      summary:
        'Planned switchover: the standby catches up, the primary stops cleanly, the standby is promoted',
    },
  },
  create: (args, ctx) => new PgControllerActor(args, ctx),
});
