import { randomUUID } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import type { ChannelRec } from './channel.ts';
import { channelHeaders, initialVars, toSimChannel, viaHostOf } from './channel.ts';
import { runApi } from './commands.ts';
import type { EventOrigin, SimEvent } from './events.ts';
import { makeEvent } from './events.ts';
import { EslListener } from './listener.ts';
import { buildMetadata } from './metadata.ts';
import { peerMode, setPeerMode } from './peers.ts';
import { recoverRows } from './recover.ts';
import type { NewRow } from './recovery-sql.ts';
import { RecoverySql } from './recovery-sql.ts';
import type {
  PeerMode,
  PlaceCallOptions,
  SimCall,
  SimChannel,
  SimHangup,
  SimHost,
  SimHostOptions,
} from './types.ts';

export type Resolved = Required<Omit<SimHostOptions, 'eslPort'>> & { eslPort: number };

/** A conference as mod_conference keeps it (its state is not in the recovery table). */
export interface Conference {
  nextId: number;
  members: Map<number, string>;
}

/**
 * One simulated FreeSWITCH: the ESL server, the channels, the conference members and the rows of the shared
 * `recovery` table. `crash()`/`restart()` model the process dying and coming back with a new core UUID.
 */
export class SimFreeswitch implements SimHost {
  readonly o: Resolved;
  private server?: Server;
  private readonly listeners = new Set<EslListener>();
  private readonly sockets = new Set<Socket>();
  private core = randomUUID();
  private seq = 0;
  sql!: RecoverySql;
  readonly chans = new Map<string, ChannelRec>();
  readonly conferences = new Map<string, Conference>();
  private readonly history: SimHangup[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<unknown>>();
  private heartbeat?: NodeJS.Timeout;
  private isPaused = false;
  private frozen: { release: () => void; gate: Promise<void> } | undefined;
  up = false;
  cleanupFails = false;
  private nextMediaPort = 16384;
  private bindSeq = 0;
  private startedAt = Date.now();
  private sessionsSinceStart = 0;

  constructor(o: SimHostOptions) {
    this.o = {
      password: 'ClueCon',
      eslHost: '127.0.0.1',
      recoverMsPerLeg: 4,
      reinviteWindowMs: 32_000,
      bridgeDelayMs: 50,
      heartbeatMs: 20_000,
      maxSessions: 1000,
      hostname: o.switchname,
      eventQueueMax: 100_000,
      surrogateEncoding: false,
      recoverBatch: 25,
      ...o,
      eslPort: o.eslPort ?? 0,
    };
  }

  get name(): string {
    return this.o.name;
  }
  get switchname(): string {
    return this.o.switchname;
  }
  get eslPort(): number {
    return this.o.eslPort;
  }
  get paused(): boolean {
    return this.isPaused;
  }
  set paused(v: boolean) {
    this.isPaused = v;
  }
  coreUuid(): string {
    return this.core;
  }

  /** Starts the process: core UUID, DB handle (table created if missing), ESL port, heartbeat. */
  async start(): Promise<void> {
    this.core = randomUUID();
    this.seq = 0;
    this.startedAt = Date.now();
    this.sessionsSinceStart = 0;
    this.isPaused = false;
    this.sql = new RecoverySql(this.o.db.connectionString, this.o.switchname);
    await this.sql.ensureTable();
    const server = createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.eslPort, this.o.eslHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (typeof addr === 'object' && addr) this.o.eslPort = addr.port;
    this.server = server;
    this.up = true;
    this.heartbeat = setInterval(() => this.fireHeartbeat(), this.o.heartbeatMs);
    this.heartbeat.unref();
  }

  private accept(s: Socket): void {
    if (!this.up) {
      s.destroy();
      return;
    }
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    const l = new EslListener(s, {
      password: this.o.password,
      runApi: (cmd, arg) => this.track(this.notFrozen().then(() => runApi(this, cmd, arg))),
      finishBgapi: (job, cmd, arg, out) => {
        if (!this.up) return;
        const h: [string, string][] = [
          ['Job-UUID', job],
          ['Job-Command', cmd],
        ];
        if (arg !== '') h.push(['Job-Command-Arg', arg]);
        this.fire(makeEvent(this.origin(), 'BACKGROUND_JOB', h, { body: out }));
      },
      newUuid: () => randomUUID(),
      eventQueueMax: this.o.eventQueueMax,
      surrogates: this.o.surrogateEncoding,
      closed: (x) => this.listeners.delete(x),
    });
    this.listeners.add(l);
  }

  origin(): EventOrigin {
    return {
      coreUuid: this.core,
      hostname: this.o.hostname,
      switchname: this.o.switchname,
      ipv4: this.o.sipIp,
      nextSequence: () => ++this.seq,
    };
  }

  /** switch_event_fire: every listener gets a copy (its subscription and filters decide). */
  fire(e: SimEvent): void {
    for (const l of this.listeners) l.offer(e);
  }

  fireChannel(name: string, c: ChannelRec, extra: [string, string][] = []): void {
    if (this.listeners.size === 0) {
      this.seq++;
      return;
    }
    this.fire(makeEvent(this.origin(), name, [...channelHeaders(c, this.o.switchname), ...extra]));
  }

  fireConference(action: 'add-member' | 'del-member', name: string, memberId: number, c: ChannelRec): void {
    const h: [string, string][] = [
      ['Conference-Name', name],
      ['Conference-Domain', c.domain],
      ['Conference-Size', String(this.conferences.get(name)?.members.size ?? 0)],
      ['Conference-Profile-Name', 'default'],
      ['Conference-Unique-ID', name],
      ...channelHeaders(c, this.o.switchname),
      ['Member-ID', String(memberId)],
      ['Member-Type', 'member'],
      ['Action', action],
    ];
    this.fire(makeEvent(this.origin(), 'CUSTOM', h, { subclass: 'conference::maintenance' }));
  }

  private fireHeartbeat(): void {
    if (!this.up) return;
    const upMs = Date.now() - this.startedAt;
    this.fire(
      makeEvent(this.origin(), 'HEARTBEAT', [
        ['Event-Info', 'System Ready'],
        [
          'Up-Time',
          `0 years, 0 days, 0 hours, ${Math.floor(upMs / 60_000)} minutes, 0 seconds, 0 milliseconds`,
        ],
        ['FreeSWITCH-Version', '1.10.12-release~64bit'],
        ['Uptime-msec', String(upMs)],
        ['Session-Count', String(this.chans.size)],
        ['Max-Sessions', String(this.o.maxSessions)],
        ['Session-Per-Sec', '30'],
        ['Session-Per-Sec-Last', '0'],
        ['Session-Per-Sec-Max', '0'],
        ['Session-Per-Sec-FiveMin', '0'],
        ['Session-Since-Startup', String(this.sessionsSinceStart)],
        ['Session-Peak-Max', String(this.chans.size)],
        ['Session-Peak-FiveMin', String(this.chans.size)],
        ['Idle-CPU', '98.000000'],
      ]),
    );
  }

  /** Keeps a promise for idle(); failures of background SQL are swallowed (the real SQL queue logs them). */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  background(p: Promise<unknown>): void {
    void this.track(p.catch(() => undefined));
  }

  timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  metadataOf(c: ChannelRec): string {
    return buildMetadata(c, this.core, this.o.switchname);
  }

  /** The next RTP socket bind on this host (orders the sockets sharing a port). */
  nextBind(): number {
    return ++this.bindSeq;
  }

  /**
   * The next port from the start of the range: a real FreeSWITCH picks at random in rtp-start-port..rtp-end-port
   * (switch_core_port_allocator.c:157) — sequential here makes two hosts' ports collide as often as can be. Like the
   * real allocator it knows nothing of ports bound by recovered legs.
   */
  mediaPort(): number {
    const p = this.nextMediaPort;
    this.nextMediaPort = p >= 32_766 ? 16_384 : p + 2;
    return p;
  }

  setNextMediaPort(port: number): void {
    if (port % 2 !== 0 || port < 16_384 || port > 32_766)
      throw new Error(`not an even port in range: ${port}`);
    this.nextMediaPort = port;
  }

  /** A new answered channel (not yet in the table). */
  newChannel(o: {
    direction: 'inbound' | 'outbound';
    profile: string;
    domain: string;
    callId: string;
    caller: string;
    callerName: string;
    callee: string;
    app: string;
    appData: string;
    peer: PeerMode;
    recordRoute?: string;
    uuid?: string;
  }): ChannelRec {
    const uuid = o.uuid ?? randomUUID();
    const now = Date.now() * 1000;
    const peerIp = o.direction === 'inbound' ? '127.0.0.101' : '127.0.0.102';
    const vars = initialVars({
      direction: o.direction,
      uuid,
      callId: o.callId,
      caller: o.caller,
      callee: o.callee,
      domain: o.domain,
      profile: o.profile,
      sipIp: this.o.sipIp,
      peerIp,
      peerPort: 5060,
      cseq: 1,
      remoteMediaPort: 20_000 + (this.nextMediaPort % 10_000),
      ...(o.recordRoute === undefined ? {} : { recordRoute: o.recordRoute }),
    });
    const c: ChannelRec = {
      uuid,
      direction: o.direction,
      profile: o.profile,
      domain: o.domain,
      callId: o.callId,
      callerName: o.callerName,
      callerNumber: o.caller,
      destNumber: o.callee,
      state: o.direction === 'inbound' ? 'CS_EXECUTE' : 'CS_EXCHANGE_MEDIA',
      callState: 'ACTIVE',
      createdUs: now,
      answeredUs: now,
      bridgedUs: 0,
      resurrectUs: 0,
      originator: o.direction === 'inbound',
      recovered: false,
      mediaIp: this.o.mediaIp,
      mediaPort: this.mediaPort(),
      rtpBoundAt: this.nextBind(),
      advertisedMediaIp: this.o.mediaIp,
      viaHost: viaHostOf(vars.get('sip_recover_via')) ?? this.o.sipIp,
      peer: o.peer,
      app: o.app,
      appData: o.appData,
      extension: o.direction === 'inbound' ? [{ app: o.app, data: o.appData }] : [],
      vars,
    };
    setPeerMode(uuid, o.peer);
    this.sessionsSinceStart++;
    return c;
  }

  private checkCanPlace(profile: string): void {
    if (!this.up) throw new Error(`${this.o.name}: FreeSWITCH is down`);
    if (this.isPaused) throw new Error(`${this.o.name}: sessions paused`);
    if (!this.o.profiles.includes(profile)) throw new Error(`${this.o.name}: no profile ${profile}`);
  }

  async placeCall(o: PlaceCallOptions): Promise<SimCall> {
    const [call] = await this.placeCalls(1, o);
    return call as SimCall;
  }

  async placeCalls(n: number, o: PlaceCallOptions): Promise<SimCall[]> {
    this.checkCanPlace(o.profile);
    const calls: SimCall[] = [];
    const rows: NewRow[] = [];
    const peer = o.peer ?? 'rport';
    for (let i = 0; i < n; i++) {
      const callId = `${randomUUID()}@${this.o.sipIp}`;
      const base = {
        profile: o.profile,
        domain: o.domain,
        callId,
        caller: o.caller,
        callerName: o.callerName ?? o.caller,
        callee: o.callee,
        peer,
        ...(o.recordRoute === undefined ? {} : { recordRoute: o.recordRoute }),
      };
      const legs: ChannelRec[] = [];
      if (o.conference !== undefined) {
        const a = this.newChannel({
          ...base,
          direction: 'inbound',
          app: 'conference',
          appData: `${o.conference}@default`,
        });
        legs.push(a);
        this.chans.set(a.uuid, a);
        this.fireChannel('CHANNEL_CREATE', a);
        this.fireChannel('CHANNEL_ANSWER', a);
        this.joinConference(a, o.conference);
      } else if (o.bridged === false) {
        const a = this.newChannel({ ...base, direction: 'inbound', app: 'park', appData: '' });
        legs.push(a);
        this.chans.set(a.uuid, a);
        this.fireChannel('CHANNEL_CREATE', a);
        this.fireChannel('CHANNEL_ANSWER', a);
      } else {
        const dial = `sofia/${o.profile}/${o.callee}@${o.domain}`;
        const a = this.newChannel({ ...base, direction: 'inbound', app: 'bridge', appData: dial });
        const b = this.newChannel({
          ...base,
          callId: `${randomUUID()}@${this.o.sipIp}`,
          direction: 'outbound',
          app: '',
          appData: '',
        });
        legs.push(a, b);
        this.chans.set(a.uuid, a);
        this.chans.set(b.uuid, b);
        this.fireChannel('CHANNEL_CREATE', a);
        this.fireChannel('CHANNEL_CREATE', b);
        this.fireChannel('CHANNEL_ANSWER', b);
        this.fireChannel('CHANNEL_ANSWER', a);
        this.bridgeLegs(a, b, false);
      }
      for (const c of legs) {
        rows.push({
          runtimeUuid: this.core,
          profile: c.profile,
          hostname: this.o.switchname,
          uuid: c.uuid,
          metadata: this.metadataOf(c),
        });
      }
      calls.push({ callId, legs: legs.map((l) => l.uuid) });
    }
    // Answered → tracked at once (switch_channel.c:3909); the bridge's refresh is folded into this first row.
    await this.track(this.sql.insert(rows));
    return calls;
  }

  /** Bridges two legs: signal_bond both ways, CHANNEL_BRIDGE from the originator, rows refreshed when asked. */
  bridgeLegs(a: ChannelRec, b: ChannelRec, refreshRows: boolean): void {
    const now = Date.now() * 1000;
    a.bridgedTo = b.uuid;
    b.bridgedTo = a.uuid;
    a.originator = true;
    b.originator = false;
    a.bridgedUs = now;
    b.bridgedUs = now;
    if (a.state === 'CS_INIT' || a.state === 'CS_RESET') a.state = 'CS_EXECUTE';
    if (b.state === 'CS_INIT' || b.state === 'CS_RESET') b.state = 'CS_EXCHANGE_MEDIA';
    this.fireChannel('CHANNEL_BRIDGE', a, [
      ['Bridge-A-Unique-ID', a.uuid],
      ['Bridge-B-Unique-ID', b.uuid],
      ['Other-Leg-Unique-ID', b.uuid],
    ]);
    if (refreshRows) {
      // switch_core_session.c:970: INDICATE_BRIDGE refreshes the row of each leg.
      this.background(this.sql.update(a.uuid, this.metadataOf(a)));
      this.background(this.sql.update(b.uuid, this.metadataOf(b)));
    }
  }

  unbridge(a: ChannelRec): ChannelRec | undefined {
    const b = a.bridgedTo === undefined ? undefined : this.chans.get(a.bridgedTo);
    if (!b) return undefined;
    const [x, y] = a.originator ? [a, b] : [b, a];
    this.fireChannel('CHANNEL_UNBRIDGE', x, [
      ['Bridge-A-Unique-ID', x.uuid],
      ['Bridge-B-Unique-ID', y.uuid],
      ['Other-Leg-Unique-ID', y.uuid],
    ]);
    delete a.bridgedTo;
    delete b.bridgedTo;
    return b;
  }

  joinConference(c: ChannelRec, name: string): void {
    let conf = this.conferences.get(name);
    if (!conf) {
      conf = { nextId: 1, members: new Map() };
      this.conferences.set(name, conf);
    }
    const id = conf.nextId++;
    conf.members.set(id, c.uuid);
    c.conference = name;
    c.memberId = id;
    c.app = 'conference';
    c.appData = `${name}@default`;
    this.fireConference('add-member', name, id, c);
  }

  leaveConference(c: ChannelRec): void {
    if (c.conference === undefined || c.memberId === undefined) return;
    const conf = this.conferences.get(c.conference);
    conf?.members.delete(c.memberId);
    this.fireConference('del-member', c.conference, c.memberId, c);
    if (conf && conf.members.size === 0) this.conferences.delete(c.conference);
    delete c.conference;
    delete c.memberId;
  }

  /**
   * Hangs one leg up: events, the row deleted by uuid when the leg was tracked (answered, past CS_SOFT_EXECUTE,
   * not recovering: switch_core_sqldb.c:3386-3405), history. Returns the SQL promise.
   */
  hangupLeg(c: ChannelRec, cause: string, deleteRow = true): Promise<void> {
    if (!this.chans.has(c.uuid)) return Promise.resolve();
    if (c.timer) clearTimeout(c.timer);
    this.leaveConference(c);
    this.chans.delete(c.uuid);
    c.state = 'CS_HANGUP';
    c.callState = 'HANGUP';
    const extra: [string, string][] = [
      ['Hangup-Cause', cause],
      ['variable_hangup_cause', cause],
    ];
    this.fireChannel('CHANNEL_HANGUP', c, extra);
    c.state = 'CS_REPORTING';
    this.fireChannel('CHANNEL_HANGUP_COMPLETE', c, extra);
    c.state = 'CS_DESTROY';
    this.fireChannel('CHANNEL_DESTROY', c, extra);
    this.history.push({ uuid: c.uuid, cause, at: Date.now() });
    return deleteRow ? this.track(this.sql.deleteByUuid(c.uuid)) : Promise.resolve();
  }

  /** A leg hangs up and takes its bridge partner with it; the bridge hands the cause on to the partner. */
  async hangupCall(c: ChannelRec, cause: string): Promise<void> {
    const partner = this.unbridge(c);
    const work = [this.hangupLeg(c, cause)];
    if (partner) work.push(this.hangupLeg(partner, cause));
    await Promise.all(work);
  }

  async hangup(uuid: string, cause = 'NORMAL_CLEARING'): Promise<void> {
    const c = this.chans.get(uuid);
    if (!c) throw new Error(`${this.o.name}: no channel ${uuid}`);
    await this.hangupCall(c, cause);
  }

  setPeer(uuid: string, mode: PeerMode): void {
    setPeerMode(uuid, mode);
    const c = this.chans.get(uuid);
    if (c) c.peer = mode;
  }

  channels(): SimChannel[] {
    const all = [...this.chans.values()];
    const at = (c: ChannelRec): string => `${c.mediaIp}:${c.mediaPort}`;
    return all.map((c) =>
      toSimChannel(
        c,
        all.filter((o) => o !== c && at(o) === at(c)),
      ),
    );
  }

  hangups(): SimHangup[] {
    return [...this.history];
  }

  /** As `fsctl pause` from the console. */
  pause(): void {
    this.paused = true;
  }

  /** As `fsctl resume` from the console. */
  resume(): void {
    this.paused = false;
  }

  failNextCleanup(): void {
    this.cleanupFails = true;
  }

  /** The ESL sessions end (mod_event_socket reloaded, a network blip): channels and rows stay, the host runs on. */
  dropConnections(): void {
    for (const l of [...this.listeners]) l.destroy();
    for (const s of this.sockets) s.destroy();
  }

  /** A hung process (SIGSTOP): sockets stay open, nothing is answered or sent until `thaw()`. */
  freeze(): void {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    this.frozen = { release, gate };
  }

  thaw(): void {
    const f = this.frozen;
    this.frozen = undefined;
    f?.release();
  }

  /** Resolves when the host is not frozen (every api command waits here first). */
  async notFrozen(): Promise<void> {
    while (this.frozen) await this.frozen.gate;
  }

  /** `fsctl recover [tech[:profile]]`, `sofia recover`, `sofia profile P recover`. */
  recover(technology?: string, profile?: string): Promise<number> {
    return this.track(recoverRows(this, technology, profile));
  }

  peerOf(uuid: string): PeerMode {
    return peerMode(uuid);
  }

  /** The process dies: sockets closed with no reply, timers gone, channels gone, rows untouched. */
  async crash(): Promise<void> {
    if (!this.up) return;
    this.up = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.chans.values()) if (c.timer) clearTimeout(c.timer);
    this.chans.clear();
    this.conferences.clear();
    for (const l of [...this.listeners]) l.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
    await this.sql.close();
  }

  async restart(): Promise<void> {
    if (this.up) await this.crash();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.idle().catch(() => undefined);
    await this.crash();
  }
}
