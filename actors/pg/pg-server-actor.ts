import { z } from 'zod';
import type { Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { PgLimits } from '../../src/pg/db.ts';
import type { Clock, TimerHandle } from '../../src/supervision/clock.ts';
import type { SshPool } from '../../src/ssh/pool.ts';
import { endpoint } from '../../src/ssh/options.ts';
import { SshAuthFailed, SshHostKeyMismatch } from '../../src/ssh/errors.ts';
import type { PgBoard, ServerObservation } from './board.ts';
import { statusOf, unknownView } from './board.ts';
import { PgActionFailed } from './errors.ts';
import { SETTINGS_ASKED, SETTINGS_SQL, settingProblems } from './preconfig.ts';
import type { SettingRow } from './preconfig.ts';
import type { DbLook } from './probe.ts';
import { DbProbe } from './probe.ts';
import type { PgServerProtocol } from './protocol.ts';
import { PgHost } from './remote.ts';
import type { PostmasterState } from './remote.ts';
import type { PgServerSettings } from './settings.ts';

/**
 * PgServerActor: watches one PostgreSQL server (04-postgres.md). Every `probeMs` it looks at the database (role,
 * timeline, positions) on a kept connection; when the database does not answer it asks the host over SSH whether a
 * postmaster runs (`pg_ctl status`) — the proof a fast failover needs. With the database up, SSH is asked only now
 * and then. Every look is posted on the cluster's board for the decision actor.
 */

export interface PgServerArgs {
  server: PgServerSettings;
  board: PgBoard;
  ssh: SshPool;
  limits: PgLimits;
  probeMs: number;
  clock: Clock;
}

/** With the database up, SSH is asked this often (it only says the host answers). */
const SSH_WHILE_UP_MS = 5_000;
/** The pre-configuration check runs at the first answer and then this often. */
const PRECONFIG_EVERY_MS = 60_000;
/** A look at SSH while the database is down must not hold the next look long. */
const SSH_ASK_MS = 1_500;

class PgServerActor implements Behavior<PgServerProtocol> {
  private readonly db: DbProbe;
  private readonly host: PgHost;
  private timer: TimerHandle | undefined;
  private looking: Promise<ServerObservation> | undefined;
  private queued: Promise<ServerObservation> | undefined;
  private stopped = false;
  private last: ServerObservation;
  private sshAskedAt = -Infinity;
  private preconfigAt = -Infinity;
  private problems: string[] = [];
  private sshError: string | null = null;

  constructor(private readonly a: PgServerArgs) {
    this.db = new DbProbe(a.server.db, a.limits);
    this.host = new PgHost(a.ssh, a.server);
    // A restarted actor goes on from its predecessor's last look (when the database stopped answering, say).
    this.last = a.board.get(a.server.name) ?? {
      ...unknownView(a.server.name),
      ssh_endpoint: endpoint(a.server.ssh),
    };
    // A dropped connection is news (a postmaster that died takes its backends with it): look again at once.
    this.db.onDrop(() => void this.look().catch(() => undefined));
    this.schedule(0);
  }

  get handlers(): Handlers<PgServerProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<PgServerProtocol, PgServerActor> = {
    status() {
      return statusOf(this.last, null);
    },
    async probe() {
      return statusOf(await this.look(), null);
    },
  };

  stop(): void {
    this.stopped = true;
    if (this.timer) this.a.clock.clearTimeout(this.timer);
    this.db.close();
  }

  /**
   * One look at a time. A caller during a look wants one that begins after its request: it gets the next look, one
   * shared by every caller meanwhile (and a drop noticed during a look is looked at right after it).
   */
  private look(): Promise<ServerObservation> {
    if (!this.looking) {
      this.looking = this.lookOnce().finally(() => {
        this.looking = undefined;
      });
      return this.looking;
    }
    this.queued ??= this.looking
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.look();
      });
    return this.queued;
  }

  private async lookOnce(): Promise<ServerObservation> {
    const db = await this.db.look();
    const now = this.a.clock.now();
    let ssh = this.last.ssh;
    let postmaster = this.last.postmaster;
    if (db.reach !== 'up' || now - this.sshAskedAt >= SSH_WHILE_UP_MS) {
      this.sshAskedAt = now;
      this.sshError = null;
      try {
        postmaster = await this.host.postmaster(SSH_ASK_MS);
        ssh = 'up';
      } catch (err) {
        // pg_ctl itself failing (a wrong path) is an answer from the host: SSH is up, the postmaster unknown.
        ssh = err instanceof PgActionFailed ? 'up' : 'down';
        postmaster = null;
        this.sshError = sshWords(err);
      }
    }
    if (db.reach === 'up' && now - this.preconfigAt >= PRECONFIG_EVERY_MS) {
      this.preconfigAt = now;
      this.problems = await this.preconfig(ssh === 'up');
    }
    // The SSH answer (and its error) holds until SSH is asked again: looks in between report the same.
    const o = this.observation(db, ssh, postmaster, this.sshError, now);
    this.last = o;
    if (!this.stopped) this.a.board.post(o);
    return o;
  }

  private observation(
    db: DbLook,
    ssh: 'up' | 'down' | null,
    postmaster: PostmasterState | null,
    sshError: string | null,
    now: number,
  ): ServerObservation {
    const errors = [db.reach === 'up' ? null : `database: ${dbWords(db)}`, sshError && `ssh: ${sshError}`];
    return {
      name: this.a.server.name,
      ssh_endpoint: endpoint(this.a.server.ssh),
      db: db.reach,
      recovery: db.recovery,
      timeline: db.timeline,
      current: db.current,
      received: db.received,
      replayed: db.replayed,
      ssh,
      postmaster,
      unreachableSince: db.reach === 'up' ? null : (this.last.unreachableSince ?? now),
      checkedAt: this.a.clock.wallNow(),
      replayDelay: db.replayDelay,
      error: errors.filter((e) => e !== null).join('; ') || null,
      problems: this.problems,
    };
  }

  private async preconfig(sshUp: boolean): Promise<string[]> {
    const out: string[] = [];
    try {
      out.push(
        ...settingProblems(await this.db.query<SettingRow>(SETTINGS_SQL, [SETTINGS_ASKED]), this.a.server),
      );
    } catch {
      // The next look reports the database's state; the check runs again later.
      this.preconfigAt = -Infinity;
    }
    if (sshUp)
      try {
        out.push(...(await this.host.missingTools()));
      } catch {
        this.preconfigAt = -Infinity;
      }
    return out;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.a.clock.setTimeout(() => {
      void this.look()
        .catch(() => undefined)
        .finally(() => this.schedule(this.a.probeMs));
    }, ms);
  }
}
const HANDLERS = PgServerActor.handlers;

function dbWords(db: DbLook): string {
  switch (db.reach) {
    case 'refused':
      return 'connection refused (no server listens)';
    case 'silent':
      return 'no answer';
    case 'auth':
      return 'the server refused the controller’s credentials';
    case 'starting':
      return 'the server is starting or shutting down';
    case 'error':
    case 'up':
      return db.error ?? 'error';
    default: {
      const never: never = db.reach;
      return never;
    }
  }
}

function sshWords(err: unknown): string {
  if (err instanceof SshAuthFailed) return 'authentication failed (check ssh_user and its password or key)';
  if (err instanceof SshHostKeyMismatch) return 'the host key is not the pinned one';
  return err instanceof Error ? err.message : String(err);
}

export const pgServerActor = defineActor<PgServerProtocol, PgServerArgs>({
  kind: 'pg-server',
  moduleUrl: import.meta.url,
  exportName: 'pgServerActor',
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary: 'The server as last observed: role, positions, lag',
    },
  },
  create: (args) => new PgServerActor(args),
});
