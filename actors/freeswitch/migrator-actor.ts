import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { FsMigrationRefused, FsUnknownHost, FsUnknownMigration } from '../../src/freeswitch/errors.ts';
import type { RecoveryTable } from '../../src/freeswitch/recovery-table.ts';
import type { Clock, TimerHandle } from '../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import type { FsFarm } from './farm.ts';
import { Migration } from './migration.ts';
import type { MigrationDeps } from './migration.ts';
import type {
  FarmStatus,
  FsMigratorProtocol,
  MigrationKind,
  MigrationRecord,
  MigrationSummary,
} from './protocol.ts';
import { FS_EVENT_TOPIC, FS_MIGRATOR_STATE_KEY, summarizeMigration } from './protocol.ts';
import type { FsFarmSettings } from './settings.ts';

/**
 * The migration actor (`/freeswitch/migrator`): declares a host down when its ESL session has been lost for
 * `confirm_ms` (or it answers but reports not ready), and moves the host's answered calls to the survivors; runs
 * the operator's `migrate` and `drain`. One migration at a time, others queue. The migration in progress is its
 * saved state (under the group's epoch): after a takeover the new active instance resumes it where it stood.
 */

export interface MigratorArgs {
  settings: FsFarmSettings;
  farm: FsFarm;
  table: RecoveryTable;
  command: MigrationDeps['command'];
  clock: Clock;
  epoch: () => number;
  leading: () => boolean;
  notify: (n: ServiceNotice) => void;
  dataDir: string;
}

interface Saved {
  active: MigrationRecord | null;
  queue: { kind: MigrationKind; host: string; to: string[] }[];
  recent: MigrationSummary[];
  /** Per host, the down episode (its `downSince`) a failover was started for: never twice for one. */
  handled: Record<string, number>;
}

const RECENT_KEPT = 50;
const TICK_MS = 100;
/** How often the fencing of the recovery table is checked (and installed, if it went missing). */
const FENCE_CHECK_MS = 30_000;

class MigratorActor implements Behavior<FsMigratorProtocol> {
  private readonly memory: Saved;
  private running: Migration | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private tableReady: Promise<void> | undefined;
  private problems: string[] = ['the fencing of the recovery table is not checked yet'];
  private fenceTimer: TimerHandle | undefined;

  constructor(
    private readonly a: MigratorArgs,
    private readonly ctx: ActorContext<Saved>,
  ) {
    this.memory = ctx.state.restored ?? { active: null, queue: [], recent: [], handled: {} };
    this.tick();
    // The fencing is in place before any recovery is needed; checked again now and then (a host reconnecting
    // with another DSN, say). The first look waits for the host actors' sessions.
    this.checkFence(2_000);
  }

  private checkFence(ms: number): void {
    if (this.stopped) return;
    this.fenceTimer = this.a.clock.setTimeout(() => {
      void this.lookAtFence().finally(() => this.checkFence(FENCE_CHECK_MS));
    }, ms);
  }

  private async lookAtFence(): Promise<void> {
    if (!this.a.leading()) return;
    try {
      await this.prepareTable();
      const up = this.a.settings.hosts.filter((h) => this.a.farm.get(h.name)?.status.state === 'up');
      this.problems = await this.a.table.problems(up.map((h) => h.switchname));
    } catch (err) {
      this.problems = [
        `cannot install or check the recovery table's fencing: ${err instanceof Error ? err.message : String(err)}`,
      ];
    }
  }

  get handlers(): Handlers<FsMigratorProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<FsMigratorProtocol, MigratorActor> = {
    status() {
      return this.status();
    },
    events({ after, limit, stream }) {
      return this.a.farm.since(after, Math.min(limit ?? 1_000, 10_000), stream);
    },
    async migration({ id }) {
      const r =
        this.memory.active?.id === id
          ? this.memory.active
          : (this.finished.get(id) ?? (await this.readRecord(id)));
      if (!r) throw new FsUnknownMigration(`no migration "${id}" is kept on this node`);
      return r;
    },
    migrate({ host, to }) {
      return this.request('migrate', host, to ?? []);
    },
    drain({ host, to }) {
      return this.request('drain', host, to ?? []);
    },
  };

  /** Finished records in full (the saved state keeps summaries only). */
  private readonly finished = new Map<string, MigrationRecord>();

  stop(): void {
    this.stopped = true;
    if (this.timer) this.a.clock.clearTimeout(this.timer);
    if (this.fenceTimer) this.a.clock.clearTimeout(this.fenceTimer);
    this.running?.stop();
  }

  private async request(kind: MigrationKind, host: string, to: string[]): Promise<{ id: string }> {
    const names = this.a.settings.hosts.map((h) => h.name);
    for (const n of [host, ...to])
      if (!names.includes(n))
        throw new FsUnknownHost(`no FreeSWITCH host "${n}" (known: ${names.join(', ')})`);
    if (to.includes(host)) throw new FsMigrationRefused(`${host} cannot be its own target`);
    if (this.memory.active?.source === host || this.memory.queue.some((q) => q.host === host))
      throw new FsMigrationRefused(`a migration of ${host} is already under way`);
    const record = this.newRecord(kind, host, to);
    if (this.memory.active) {
      this.memory.queue.push({ kind, host, to });
      await this.save();
      return { id: `queued:${host}` };
    }
    this.begin(record);
    return { id: record.id };
  }

  private newRecord(kind: MigrationKind, source: string, allowed: string[]): MigrationRecord {
    return {
      id: `${this.a.clock.wallNow().toString(36)}-${randomUUID().slice(0, 8)}`,
      kind,
      source,
      source_core_uuid: null,
      allowed,
      epoch: this.a.epoch(),
      started_at: this.a.clock.wallNow(),
      finished_at: null,
      phase: 'planning',
      reason: null,
      calls: [],
      recoveries: [],
      stale_removed: 0,
      recreate_ms: null,
      recover_ms: null,
      failed_file: null,
    };
  }

  /** Every tick: resume a saved migration, declare hosts down, start what is queued. */
  private tick(): void {
    if (this.stopped) return;
    this.timer = this.a.clock.setTimeout(() => {
      try {
        this.step();
      } finally {
        this.tick();
      }
    }, TICK_MS);
  }

  private step(): void {
    if (this.running || !this.a.leading()) return;
    if (this.memory.active) {
      this.begin(this.memory.active, true);
      return;
    }
    const now = this.a.clock.wallNow();
    for (const h of this.a.settings.hosts) {
      const v = this.a.farm.get(h.name);
      if (!v || v.downSince === null || now - v.downSince < this.a.settings.confirmMs) continue;
      if (this.memory.handled[h.name] === v.downSince) continue;
      this.memory.handled[h.name] = v.downSince;
      this.begin(this.newRecord('failover', h.name, this.a.settings.failoverTargets ?? []));
      return;
    }
    const next = this.memory.queue.shift();
    if (next) this.begin(this.newRecord(next.kind, next.host, next.to));
  }

  private begin(record: MigrationRecord, resumed = false): void {
    this.memory.active = record;
    const m = new Migration(record, this.deps(), resumed);
    this.running = m;
    void this.prepareTable()
      .then(() => m.run())
      .then(async (done) => {
        this.running = undefined;
        if (this.stopped) return;
        this.memory.active = null;
        // A failover of a host whose rows were already recovered (by an earlier active, say) is no news.
        if (done.kind === 'failover' && done.calls.length === 0 && done.phase === 'done') {
          await this.save();
          return;
        }
        this.finished.set(done.id, done);
        if (this.finished.size > RECENT_KEPT) this.finished.delete(this.finished.keys().next().value!);
        await this.writeRecord(done);
        this.memory.recent = [...this.memory.recent, summarizeMigration(done)].slice(-RECENT_KEPT);
        await this.save();
      })
      .catch((err: unknown) => {
        // A failure to save or to reach the database: the restarted actor resumes from the saved record.
        this.running = undefined;
        if (!this.stopped) this.ctx.fail(err);
      });
  }

  /**
   * Every finished migration, call by call, in `<data dir>/fs-migrations/<id>.json` (the saved state keeps the
   * summaries): `migration ID` answers after a restart too. A failed write is reported, never fatal.
   */
  private async writeRecord(r: MigrationRecord): Promise<void> {
    try {
      const dir = join(this.a.dataDir, 'fs-migrations');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = join(dir, `${r.id}.json.tmp`);
      await writeFile(tmp, JSON.stringify(r), { mode: 0o600 });
      await rename(tmp, join(dir, `${r.id}.json`));
    } catch (err) {
      this.a.notify({
        type: 'notice',
        topic: FS_EVENT_TOPIC,
        event: 'record-not-written',
        level: 'warn',
        message: `migration ${r.id}: its record could not be written (${err instanceof Error ? err.message : String(err)})`,
        epoch: this.a.epoch(),
      });
    }
  }

  private async readRecord(id: string): Promise<MigrationRecord | undefined> {
    // Ids are ours (`<base36 time>-<8 hex>`): anything else is not looked up on disk.
    if (!/^[a-z0-9]+-[0-9a-f]{8}$/.test(id)) return undefined;
    try {
      return JSON.parse(
        await readFile(join(this.a.dataDir, 'fs-migrations', `${id}.json`), 'utf8'),
      ) as MigrationRecord;
    } catch {
      return undefined;
    }
  }

  /** RLS and the assignment table, once per incarnation (idempotent). */
  private prepareTable(): Promise<void> {
    this.tableReady ??= this.a.table.install().catch((err: unknown) => {
      this.tableReady = undefined;
      throw err;
    });
    return this.tableReady;
  }

  private deps(): MigrationDeps {
    const a = this.a;
    return {
      settings: a.settings,
      farm: a.farm,
      table: a.table,
      command: a.command,
      clock: a.clock,
      epoch: a.epoch,
      leading: a.leading,
      notify: (n) => a.notify({ ...n, type: 'notice', topic: FS_EVENT_TOPIC, epoch: a.epoch() }),
      save: async (r) => {
        this.memory.active = r;
        await this.save();
      },
      dataDir: a.dataDir,
    };
  }

  private async save(): Promise<void> {
    await this.ctx.state.save(this.memory);
  }

  private status(): FarmStatus {
    return {
      hosts: this.a.settings.hosts.flatMap((h) => this.a.farm.get(h.name)?.status ?? []),
      active: this.memory.active,
      recent: this.memory.recent,
      epoch: this.a.leading() ? this.a.epoch() : null,
      problems: this.problems,
    };
  }
}
const HANDLERS = MigratorActor.handlers;

const HostRequest = z.strictObject({
  host: z.string().min(1),
  to: z.array(z.string().min(1)).optional(),
});

export const migratorActor = defineActor<FsMigratorProtocol, MigratorArgs, Saved>({
  kind: 'freeswitch-migrator',
  moduleUrl: import.meta.url,
  exportName: 'migratorActor',
  stateKey: () => FS_MIGRATOR_STATE_KEY,
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary: 'The farm: hosts, the migration in progress, recent ones',
    },
    events: {
      payload: z.strictObject({
        after: z.int().min(0),
        limit: z.int().min(1).max(10_000).optional(),
        stream: z.string().max(64).optional(),
      }),
      scope: 'read',
      summary:
        'Call events of every host after a sequence number of a stream (created, answered, bridged, transferred, ended …)',
    },
    migration: {
      payload: z.strictObject({ id: z.string().min(1) }),
      scope: 'read',
      summary: 'One migration, call by call',
    },
    migrate: {
      payload: HostRequest,
      scope: 'admin',
      summary: 'Move every call of a host to the others (or to `to`)',
    },
    drain: {
      payload: HostRequest,
      scope: 'admin',
      summary: 'Pause a host, move its calls, stop it without BYE',
    },
  },
  create: (args, ctx) => new MigratorActor(args, ctx),
});
