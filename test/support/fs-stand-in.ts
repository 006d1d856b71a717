import { z } from 'zod';
import type {
  FarmStatus,
  FsChannel,
  FsHostProtocol,
  FsHostStatus,
  FsMigratorProtocol,
  MigrationCall,
  MigrationKind,
  MigrationRecord,
  MigrationSummary,
} from '../../actors/freeswitch/protocol.ts';
import { summarizeMigration } from '../../actors/freeswitch/protocol.ts';
import { actorChild } from '../../src/actor-system/actor-child.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { FsMigrationRefused, FsUnknownHost, FsUnknownMigration } from '../../src/freeswitch/errors.ts';
import type { Supervisor } from '../../src/supervision/supervisor.ts';
import { supervisorChild } from '../../src/supervision/supervisor-child.ts';
import type { ApiNode } from './api-node.ts';

/**
 * A stand-in FreeSWITCH farm for the interface tests (API, shell, metrics, web view), while the ESL simulator and
 * client are not there to run the real one: actors at `/freeswitch/migrator` and `/freeswitch/hosts/<name>` with the
 * real kinds' public messages and scopes, answering the protocol's shapes (FarmStatus, FsChannel[], MigrationRecord)
 * from a {@link FarmScript} the test holds. A migrate or drain plays a scripted list of records, one step further at
 * every read of the farm or of the migration, so a poller sees it advance phase by phase. The node's API is told the
 * farm's host names as its topology would (ControllerServices.freeswitch).
 */

export class FarmScript {
  readonly hosts = new Map<string, { status: FsHostStatus; channels: FsChannel[] | 'crash' }>();
  readonly recent: MigrationSummary[] = [];
  readonly finished = new Map<string, MigrationRecord>();
  readonly requests: { kind: MigrationKind; host: string; to: string[] }[] = [];
  epoch = 7;
  private playing: { frames: MigrationRecord[]; step: number } | null = null;
  /** The records a migration goes through, the last one finished (default: {@link threeCallMigration}). */
  frames: (kind: MigrationKind, host: string, to: string[], id: string) => MigrationRecord[] = (
    kind,
    host,
    to,
    id,
  ) => threeCallMigration({ id, kind, source: host, allowed: to, epoch: this.epoch });

  constructor(hosts: FsHostStatus[]) {
    for (const h of hosts) this.hosts.set(h.name, { status: h, channels: [] });
  }

  get active(): MigrationRecord | null {
    return this.playing ? (this.playing.frames[this.playing.step] ?? null) : null;
  }

  status(): FarmStatus {
    const s: FarmStatus = {
      hosts: [...this.hosts.values()].map((h) => h.status),
      active: this.active,
      recent: [...this.recent],
      epoch: this.epoch,
      problems: [],
    };
    this.advance();
    return s;
  }

  migration(id: string): MigrationRecord {
    const active = this.active;
    if (active?.id === id) {
      this.advance();
      return active;
    }
    const r = this.finished.get(id);
    if (!r) throw new FsUnknownMigration(`no migration "${id}" is kept on this node`);
    return r;
  }

  start(kind: MigrationKind, host: string, to: string[]): { id: string } {
    const names = [...this.hosts.keys()];
    for (const n of [host, ...to])
      if (!names.includes(n))
        throw new FsUnknownHost(`no FreeSWITCH host "${n}" (known: ${names.join(', ')})`);
    if (to.includes(host)) throw new FsMigrationRefused(`${host} cannot be its own target`);
    if (this.active?.source === host)
      throw new FsMigrationRefused(`a migration of ${host} is already under way`);
    this.requests.push({ kind, host, to });
    const id = `m${this.requests.length}-${host}`;
    this.playing = { frames: this.frames(kind, host, to, id), step: 0 };
    return { id };
  }

  /** Ends the playing migration at its last frame, as the migrator keeps it. */
  private advance(): void {
    const p = this.playing;
    if (!p) return;
    p.step++;
    if (p.step < p.frames.length - 1) return;
    const done = p.frames[p.frames.length - 1] as MigrationRecord;
    this.playing = null;
    this.finished.set(done.id, done);
    this.recent.push(summarizeMigration(done));
  }
}

export function hostStatus(name: string, o: Partial<FsHostStatus> = {}): FsHostStatus {
  return {
    name,
    switchname: `switch-${name}`,
    state: 'up',
    since: Date.UTC(2026, 11, 6, 9),
    core_uuid: `core-${name}`,
    sessions: 0,
    max_sessions: 1000,
    idle_cpu: 97.5,
    paused: false,
    channels: 0,
    profiles: ['external', 'internal'],
    error: null,
    problems: [],
    ...o,
  };
}

export function channel(uuid: string, o: Partial<FsChannel> = {}): FsChannel {
  return {
    uuid,
    direction: 'inbound',
    state: 'CS_EXECUTE',
    answered: true,
    partner: null,
    conference: null,
    profile: 'external',
    domain: 'test.rootdomain.ru',
    caller: '1001',
    callee: '2002',
    callId: `${uuid}@sip`,
    recovered: false,
    ...o,
  };
}

const call = (id: string, legs: number, o: Partial<MigrationCall> = {}): MigrationCall => ({
  id,
  legs: Array.from({ length: legs }, (_, i) => `${id}-leg${i + 1}`),
  target: null,
  outcome: 'planned',
  cause: null,
  domain: 'test.rootdomain.ru',
  caller: '1001',
  callee: '2002',
  conference: null,
  recreated: 0,
  bridged: legs > 1,
  ...o,
});

/**
 * A migration of three calls to fs02 in five records: planned, handed, two re-created, one moved and one lost
 * (RECOVERY_ON_TIMER_EXPIRE), all settled (`done`).
 */
export function threeCallMigration(o: {
  id: string;
  kind: MigrationKind;
  source: string;
  allowed: string[];
  epoch: number;
  target?: string;
}): MigrationRecord[] {
  const target = o.target ?? 'fs02';
  const t0 = Date.now();
  const base: MigrationRecord = {
    id: o.id,
    kind: o.kind,
    source: o.source,
    source_core_uuid: `core-${o.source}`,
    allowed: o.allowed,
    epoch: o.epoch,
    started_at: t0,
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
  const calls = (
    a: Partial<MigrationCall>,
    b: Partial<MigrationCall>,
    c: Partial<MigrationCall>,
  ): MigrationCall[] => [
    call('call-a', 2, { target, ...a }),
    call('call-b', 1, { target, ...b }),
    call('call-c', 1, { target, conference: 'room-1', ...c }),
  ];
  const sent = {
    target,
    handed: true,
    sent: true,
    reply: '+OK 4 session(s) recovered in total',
    count: 4,
    ms: 35,
  };
  return [
    { ...base, calls: calls({ target: null }, { target: null }, { target: null }) },
    {
      ...base,
      phase: 'handing-over',
      calls: calls({ outcome: 'handed' }, { outcome: 'handed' }, { outcome: 'handed' }),
    },
    {
      ...base,
      phase: 'recovering',
      recoveries: [sent],
      calls: calls(
        { outcome: 'recreated', recreated: 2 },
        { outcome: 'recreated', recreated: 1 },
        { outcome: 'handed' },
      ),
    },
    {
      ...base,
      phase: 'confirming',
      recoveries: [sent],
      recreate_ms: 640,
      recover_ms: 35,
      calls: calls(
        { outcome: 'moved', recreated: 2 },
        { outcome: 'recreated', recreated: 1 },
        { outcome: 'lost', recreated: 1, cause: 'RECOVERY_ON_TIMER_EXPIRE' },
      ),
    },
    {
      ...base,
      phase: 'done',
      finished_at: t0 + 33_000,
      recoveries: [sent],
      recreate_ms: 640,
      recover_ms: 35,
      failed_file: '/var/lib/mware/freeswitch/failed-calls.jsonl',
      calls: calls(
        { outcome: 'moved', recreated: 2 },
        { outcome: 'moved', recreated: 1 },
        { outcome: 'lost', recreated: 1, cause: 'RECOVERY_ON_TIMER_EXPIRE' },
      ),
    },
  ];
}

type MigratorMessages = Pick<FsMigratorProtocol, 'status' | 'migration' | 'migrate' | 'drain'>;
type HostMessages = Pick<FsHostProtocol, 'status' | 'channels'>;
const Move = z.strictObject({ host: z.string().min(1), to: z.array(z.string().min(1)).optional() });

export const standInMigrator = defineActor<MigratorMessages, { script: FarmScript }>({
  kind: 'test-freeswitch-migrator-stand-in',
  moduleUrl: import.meta.url,
  exportName: 'standInMigrator',
  messages: {
    status: { payload: z.null(), scope: 'read', summary: 'The farm' },
    migration: {
      payload: z.strictObject({ id: z.string().min(1) }),
      scope: 'read',
      summary: 'One migration',
    },
    migrate: { payload: Move, scope: 'admin', summary: 'Move the calls of a host' },
    drain: { payload: Move, scope: 'admin', summary: 'Drain a host' },
  },
  create: ({ script }) => ({
    handlers: {
      status: () => script.status(),
      migration: ({ id }) => script.migration(id),
      migrate: ({ host, to }) => script.start('migrate', host, to ?? []),
      drain: ({ host, to }) => script.start('drain', host, to ?? []),
    },
  }),
});

export const standInHost = defineActor<HostMessages, { script: FarmScript; name: string }>({
  kind: 'test-freeswitch-host-stand-in',
  moduleUrl: import.meta.url,
  exportName: 'standInHost',
  messages: {
    status: { payload: z.null(), scope: 'read', summary: 'The host' },
    channels: { payload: z.null(), scope: 'read', summary: 'Its channels' },
  },
  create: ({ script, name }) => ({
    handlers: {
      status: () => script.hosts.get(name)?.status as FsHostStatus,
      channels: () => {
        const c = script.hosts.get(name)?.channels ?? [];
        // Not a caller's error: the actor crashes (and is restarted), as a host actor whose ESL session broke.
        if (c === 'crash') throw new Error(`${name}: ESL connection lost`);
        return c;
      },
    },
  }),
});

/** Starts the stand-in farm as `/freeswitch` on the node, and tells its API the farm's host names. */
export async function startFsStandIn(n: ApiNode, script: FarmScript): Promise<void> {
  // The node keeps its root supervisor to itself; the farm's subtree belongs under it, as the group's would.
  const root = (n.node as unknown as { root: Supervisor }).root;
  const runtime = n.node.runtime;
  const names = [...script.hosts.keys()];
  await root.startChild(
    supervisorChild({
      id: 'freeswitch',
      kind: 'freeswitch-supervisor',
      flags: { strategy: 'rest_for_one', intensity: 100, periodMs: 60_000 },
      children: [
        supervisorChild({
          id: 'hosts',
          kind: 'freeswitch-hosts',
          flags: { strategy: 'one_for_one', intensity: 100, periodMs: 60_000 },
          children: names.map((name) =>
            actorChild(runtime, { id: name, kind: standInHost, args: { script, name }, mode: 'in-memory' }),
          ),
        }),
        actorChild(runtime, { id: 'migrator', kind: standInMigrator, args: { script }, mode: 'in-memory' }),
      ],
    }),
  );
  (n.node.api.controllers as { freeswitch: readonly string[] }).freeswitch = names;
}
