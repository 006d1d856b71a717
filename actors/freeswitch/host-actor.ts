import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { CHANNEL_EVENT_NAMES, callEventOf } from '../../src/freeswitch/call-events.ts';
import type { CallEvent } from '../../src/freeswitch/call-events.ts';
import { EslClient } from '../../src/freeswitch/esl/client.ts';
import type { EslCloseReason } from '../../src/freeswitch/esl/client.ts';
import type { EslEvent } from '../../src/freeswitch/esl/event.ts';
import { EslConnectionLost } from '../../src/freeswitch/esl/errors.ts';
import type { Clock, TimerHandle } from '../../src/supervision/clock.ts';
import type { FsFarm } from './farm.ts';
import { channelsFromShow } from './show-channels.ts';
import type { FsChannel, FsHostProtocol, FsHostState, FsHostStatus } from './protocol.ts';
import type { FsHostSettings } from './settings.ts';

/**
 * FreeswitchHostActor: one per FreeSWITCH host (05-freeswitch.md "Behaviour"). It holds the host's ESL session,
 * subscribes to channel events and HEARTBEAT, keeps the live channel set (uuid, direction, state, partner,
 * conference, profile) with the core UUID and load, and reconciles with `show channels`/`show calls` after every
 * connect. A lost session, a `status` probe past its deadline or a silent heartbeat fail the actor: its supervisor
 * restarts it — and so reconnects — with backoff. The host's state outlives the restarts on the farm board, so the
 * migrator's confirmation window runs from the first loss.
 */

export interface FsHostArgs {
  host: FsHostSettings;
  farm: FsFarm;
  probeMs: number;
  clock: Clock;
  /** ESL deadlines (a connect includes auth). */
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** For tests: a different client factory. */
  connect?: typeof EslClient.connect;
}

/** HEARTBEAT comes every 20 s; two missed ones mean the host's event thread is stuck even if `status` answers. */
const HEARTBEAT_SILENCE_MS = 45_000;
const MAX_SESSIONS_DEFAULT = 1000;
/**
 * `status` must answer within this. FreeSWITCH runs an `api` command in the connection's own thread, so one slow
 * command delays the probe behind it: the node's own long commands go by `bgapi`, and the deadline leaves room.
 */
const PROBE_DEADLINE_MS = 2_000;

class FreeswitchHostActor implements Behavior<FsHostProtocol> {
  private esl: EslClient | undefined;
  private state: FsHostState = 'connecting';
  private since: number;
  private downSince: number | null;
  private error: string | null = null;
  private coreUuid: string | null = null;
  private sessions = 0;
  private maxSessions = MAX_SESSIONS_DEFAULT;
  private idleCpu: number | null = null;
  private paused = false;
  private lastHeartbeat: number;
  private readonly channels = new Map<string, FsChannel>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Events that arrived while reconciling: applied over the snapshot so nothing seen is lost. */
  private backlog: EslEvent[] | null = null;

  constructor(
    private readonly a: FsHostArgs,
    private readonly ctx: ActorContext,
  ) {
    const before = a.farm.get(a.host.name);
    this.since = a.clock.wallNow();
    this.downSince = before?.downSince ?? null;
    this.lastHeartbeat = a.clock.now();
    this.publish();
    void this.connect();
  }

  get handlers(): Handlers<FsHostProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<FsHostProtocol, FreeswitchHostActor> = {
    status() {
      return this.status();
    },
    channels() {
      return [...this.channels.values()];
    },
    async api({ command, timeout_ms }) {
      return this.client().api(command, timeout_ms === undefined ? undefined : { timeoutMs: timeout_ms });
    },
    async bgapi({ command, timeout_ms }) {
      const out = await this.client().bgapi(
        command,
        timeout_ms === undefined ? undefined : { timeoutMs: timeout_ms },
      );
      // Our own pause and resume: the board knows at once (the probe would see it a moment later).
      if (/^fsctl\s+pause\b/.test(command) && out.startsWith('+OK')) this.setPaused(true);
      if (/^fsctl\s+resume\b/.test(command) && out.startsWith('+OK')) this.setPaused(false);
      return out;
    },
  };

  stop(): void {
    this.stopped = true;
    if (this.timer) this.a.clock.clearTimeout(this.timer);
    this.esl?.close();
    // Stopped by its supervisor (the group stops leading, say): not a host failure.
    if (this.state === 'up') this.setState('connecting', null);
  }

  private client(): EslClient {
    if (!this.esl || this.esl.closed)
      throw new EslConnectionLost(`no ESL session with ${this.a.host.name} (${this.state})`);
    return this.esl;
  }

  private async connect(): Promise<void> {
    const { host } = this.a;
    const connect = this.a.connect ?? ((o: Parameters<typeof EslClient.connect>[0]) => EslClient.connect(o));
    let esl: EslClient;
    try {
      esl = await connect({
        host: host.esl.host,
        port: host.esl.port,
        password: host.esl.password,
        connectTimeoutMs: this.a.connectTimeoutMs,
        commandTimeoutMs: this.a.commandTimeoutMs,
      });
    } catch (err) {
      this.lost(err);
      return;
    }
    if (this.stopped) {
      esl.close();
      return;
    }
    this.esl = esl;
    this.backlog = [];
    esl.onEvent((e) => this.onEvent(e));
    esl.onClose((r) => this.lost(closeError(r)));
    try {
      await esl.subscribe([...CHANNEL_EVENT_NAMES]);
      await this.reconcile(esl);
    } catch (err) {
      this.lost(err);
      esl.close();
      return;
    }
    this.schedule();
  }

  /** The channel set from the host's own tables, then every event seen meanwhile applied over it. */
  private async reconcile(esl: EslClient): Promise<void> {
    const [core, status, channels, calls, paused] = await Promise.all([
      esl.api('global_getvar core_uuid'),
      esl.api('status'),
      esl.api('show channels as json'),
      esl.api('show calls as json'),
      esl.api('fsctl pause_check'),
    ]);
    this.coreUuid = core.trim() || null;
    this.channels.clear();
    for (const c of channelsFromShow(channels, calls)) this.channels.set(c.uuid, c);
    this.paused = paused.trim() === 'true';
    const backlog = this.backlog ?? [];
    this.backlog = null;
    for (const e of backlog) this.apply(e);
    this.lastHeartbeat = this.a.clock.now();
    this.readStatus(status);
  }

  private readStatus(body: string): void {
    const sessions = /(\d+)\s+session\(s\)\s+-\s+peak/i.exec(body) ?? /(\d+)\s+session\(s\)/i.exec(body);
    if (sessions?.[1]) this.sessions = Number(sessions[1]);
    const max = /(\d+)\s+session\(s\)\s+max/i.exec(body);
    if (max?.[1]) this.maxSessions = Number(max[1]);
    // switch_core_ready() is false while paused (SCF_NO_NEW_SESSIONS, switch_core.c:2997): a paused host says
    // "not ready" though its calls run on. Only a host not ready and not paused (shutting down) is not ready.
    const ready = /is ready/i.test(body) || this.paused;
    this.setState(
      ready ? 'up' : 'not-ready',
      ready ? null : 'the core reports it is not ready (shutting down)',
    );
  }

  private onEvent(e: EslEvent): void {
    if (this.backlog) {
      this.backlog.push(e);
      return;
    }
    this.apply(e);
  }

  private apply(e: EslEvent): void {
    if (e.name === 'HEARTBEAT') {
      this.lastHeartbeat = this.a.clock.now();
      const h = e.headers;
      this.sessions = numberOr(h['Session-Count'], this.sessions);
      this.maxSessions = numberOr(h['Max-Sessions'], this.maxSessions);
      const idle = Number(h['Idle-CPU']);
      this.idleCpu = Number.isFinite(idle) ? idle : this.idleCpu;
      this.publish();
      return;
    }
    const c = callEventOf(this.a.host.name, e, this.a.clock.wallNow());
    if (!c) return;
    this.track(c, e);
    this.publish();
    this.a.farm.publish(c);
  }

  private track(c: CallEvent, e: EslEvent): void {
    const existing = this.channels.get(c.uuid);
    switch (c.kind) {
      case 'created':
        this.channels.set(c.uuid, {
          uuid: c.uuid,
          direction: c.direction,
          state: e.headers['Channel-State'] ?? 'CS_NEW',
          // A recovered leg was answered before: FreeSWITCH sends no CHANNEL_ANSWER for it.
          answered: e.headers['Answer-State'] === 'answered',
          partner: null,
          conference: null,
          profile: profileOf(e.headers['Channel-Name']),
          domain: c.domain,
          caller: c.caller,
          callee: c.callee,
          callId: c.callId,
          recovered: c.recovered,
        });
        return;
      case 'answered':
        if (existing)
          this.channels.set(c.uuid, {
            ...existing,
            answered: true,
            state: e.headers['Channel-State'] ?? existing.state,
          });
        return;
      case 'bridged':
      case 'unbridged': {
        const partner = c.kind === 'bridged' ? c.partner : null;
        if (existing) this.channels.set(c.uuid, { ...existing, partner });
        const other = c.partner ? this.channels.get(c.partner) : undefined;
        if (other && c.partner)
          this.channels.set(c.partner, { ...other, partner: c.kind === 'bridged' ? c.uuid : null });
        return;
      }
      case 'conference-joined':
      case 'conference-left':
        if (existing)
          this.channels.set(c.uuid, {
            ...existing,
            conference: c.kind === 'conference-joined' ? c.conference : null,
          });
        return;
      case 'ended':
        this.channels.delete(c.uuid);
        return;
      case 'transferred':
      case 'recorded':
        return;
      default: {
        const never: never = c.kind;
        return never;
      }
    }
  }

  /** Every probeMs: `status` within a deadline (a hung host is noticed here), the heartbeat watched. */
  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.a.clock.setTimeout(() => void this.probe(), this.a.probeMs);
  }

  private async probe(): Promise<void> {
    const esl = this.esl;
    if (!esl || esl.closed || this.stopped) return;
    if (this.a.clock.now() - this.lastHeartbeat > HEARTBEAT_SILENCE_MS) {
      this.lost(
        new EslConnectionLost(`no HEARTBEAT from ${this.a.host.name} for ${HEARTBEAT_SILENCE_MS} ms`),
      );
      esl.close();
      return;
    }
    try {
      const [status, paused] = await Promise.all([
        esl.api('status', { timeoutMs: PROBE_DEADLINE_MS }),
        esl.api('fsctl pause_check', { timeoutMs: PROBE_DEADLINE_MS }),
      ]);
      this.paused = paused.trim() === 'true';
      this.readStatus(status);
    } catch (err) {
      this.lost(err);
      esl.close();
      return;
    }
    this.schedule();
  }

  private setPaused(p: boolean): void {
    this.paused = p;
    this.publish();
  }

  private setState(state: FsHostState, error: string | null): void {
    const now = this.a.clock.wallNow();
    if (state !== this.state) this.since = now;
    this.state = state;
    this.error = error;
    if (state === 'up') this.downSince = null;
    else if (state === 'down' || state === 'not-ready') this.downSince ??= now;
    this.publish();
  }

  /** The session is gone (or never came): the board says so, then the supervisor restarts the actor. */
  private lost(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.a.clock.clearTimeout(this.timer);
    // The channels went with the session as far as this node can tell; the host's rows say what to recover.
    this.channels.clear();
    this.setState('down', err instanceof Error ? err.message : String(err));
    this.ctx.fail(err);
  }

  private status(): FsHostStatus {
    return {
      name: this.a.host.name,
      switchname: this.a.host.switchname,
      state: this.state,
      since: this.since,
      core_uuid: this.coreUuid,
      sessions: this.sessions,
      max_sessions: this.maxSessions,
      idle_cpu: this.idleCpu,
      paused: this.paused,
      channels: this.channels.size,
      profiles: this.a.host.profiles,
      error: this.error,
      problems: [],
    };
  }

  private publish(): void {
    this.a.farm.post({ status: this.status(), downSince: this.downSince, channels: this.channels });
  }
}
const HANDLERS = FreeswitchHostActor.handlers;

function closeError(r: EslCloseReason): Error {
  switch (r.kind) {
    case 'closed':
      return new EslConnectionLost('the ESL session closed');
    case 'disconnect-notice':
      return new EslConnectionLost(`the host ended the ESL session: ${r.text}`);
    case 'rude-rejection':
      return new EslConnectionLost(`the host refused the ESL session (ACL): ${r.text}`);
    case 'protocol':
    case 'error':
      return r.error;
    default: {
      const never: never = r;
      return never;
    }
  }
}

function numberOr(s: string | undefined, fallback: number): number {
  const n = Number(s);
  return s !== undefined && Number.isFinite(n) ? n : fallback;
}

/** `sofia/internal/1001@example.test` → `internal`. */
function profileOf(channelName: string | undefined): string | null {
  const m = /^sofia\/([^/]+)\//.exec(channelName ?? '');
  return m?.[1] ?? null;
}

export const freeswitchHostActor = defineActor<FsHostProtocol, FsHostArgs>({
  kind: 'freeswitch-host',
  moduleUrl: import.meta.url,
  exportName: 'freeswitchHostActor',
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary: 'The host as its actor sees it: state, load, channels count',
    },
    channels: { payload: z.null(), scope: 'read', summary: 'The live channels of the host' },
  },
  create: (args, ctx) => new FreeswitchHostActor(args, ctx),
});
