import { randomUUID } from 'node:crypto';
import type { Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { CallEvent } from '../../src/freeswitch/call-events.ts';
import { CallHostUnavailable, CallNotFound, ConferenceNotFound } from '../../src/freeswitch/errors.ts';
import { MwareError } from '../../src/errors.ts';
import { dialogOf, dialogsOf } from './call-manager-dialogs.ts';
import type { LegTimes } from './call-manager-dialogs.ts';
import {
  eslLine,
  originateCommand,
  originateResult,
  parseConferenceList,
  parseMembers,
  recordingPath,
  uuidResult,
} from './call-manager-esl.ts';
import type {
  CallActionReply,
  Conference,
  Dialog,
  FsCallsProtocol,
  Participant,
} from './call-manager-protocol.ts';
import {
  CallRef,
  ConferenceRef,
  DomainOnly,
  DtmfRequest,
  HangupRequest,
  KickRequest,
  OriginateRequest,
  RecordRequest,
  TransferRequest,
} from './call-manager-protocol.ts';
import type { FsFarm, HostView } from './farm.ts';
import type { FsCallManagerSettings } from './settings.ts';

/**
 * The call manager (`/freeswitch/calls`, 05-freeswitch.md "Call manager facade"): the farm's calls per domain, and
 * the few things a script or a client does to them — originate, hang up, blind transfer, DTMF, record — plus the
 * conferences. It reads the farm board to find which host holds a call and acts through that host's actor (`api`,
 * `bgapi`), so it never holds an ESL session of its own. A call belongs to the domain of its channel
 * (`variable_domain_name`, or the presence id's domain); a call of another domain is answered as unknown.
 */

export interface CallManagerArgs {
  settings: FsCallManagerSettings;
  farm: FsFarm;
  /** An ESL command on a host, through its actor (as the migrator's). */
  command(host: string, kind: 'api' | 'bgapi', command: string, timeoutMs: number): Promise<string>;
  /** For tests: the uuid given to a new call. */
  newUuid?: () => string;
}

const COMMAND_MS = 5_000;
/** Legs whose times are kept at most (ended legs are forgotten at once; this bounds a missed hangup). */
const TIMES_KEPT = 100_000;

class CallManager implements Behavior<FsCallsProtocol> {
  private readonly times = new Map<string, LegTimes>();
  private readonly unsubscribe: () => void;

  constructor(private readonly a: CallManagerArgs) {
    this.unsubscribe = a.farm.onCall((e) => this.onCall(e));
  }

  get handlers(): Handlers<FsCallsProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<FsCallsProtocol, CallManager> = {
    list({ domain }) {
      return { calls: this.dialogs().filter((d) => d.domain === domain) };
    },
    get({ domain, id }) {
      return this.find(domain, id).dialog;
    },
    async originate(r) {
      const host = this.pickHost();
      const s = this.a.settings;
      const command = originateCommand({
        uuid: (this.a.newUuid ?? randomUUID)(),
        from: r.from,
        to: r.to,
        domain: r.domain,
        context: s.context === 'domain' ? r.domain : s.context,
        callerIdNumber: r.caller_id_number ?? r.to,
        callerIdName: r.caller_id_name ?? r.caller_id_number ?? r.to,
        timeoutS: s.originateTimeoutS,
      });
      // bgapi, not api: FreeSWITCH runs an `api` command in the ESL session's own thread, so an originate ringing
      // for a minute would hold up every later command of the host actor — its `status` probe included.
      const reply = await this.run(host, 'bgapi', command, (s.originateTimeoutS + 10) * 1_000);
      return { id: originateResult(reply, host), host, domain: r.domain };
    },
    async hangup({ domain, id, cause }) {
      const { dialog, host } = this.find(domain, id);
      // The A leg: FreeSWITCH ends its bridge, and the B leg with it.
      return this.act(
        dialog,
        host,
        dialog.a.uuid,
        eslLine('uuid_kill', dialog.a.uuid, cause ?? 'NORMAL_CLEARING'),
      );
    },
    async transfer({ domain, id, to, leg }) {
      const { dialog, host } = this.find(domain, id);
      const context = this.a.settings.context === 'domain' ? domain : this.a.settings.context;
      if (leg === 'both')
        return this.act(
          dialog,
          host,
          dialog.a.uuid,
          eslLine('uuid_transfer', dialog.a.uuid, '-both', to, 'XML', context),
        );
      const uuid = this.legOf(dialog, leg ?? 'a');
      return this.act(dialog, host, uuid, eslLine('uuid_transfer', uuid, to, 'XML', context));
    },
    async dtmf({ domain, id, digits, duration_ms, leg }) {
      const { dialog, host } = this.find(domain, id);
      const uuid = this.legOf(dialog, leg ?? 'a');
      const arg = duration_ms === undefined ? digits : `${digits}@${duration_ms}`;
      return this.act(dialog, host, uuid, eslLine('uuid_send_dtmf', uuid, arg));
    },
    async record({ domain, id, action, path, limit_s }) {
      const { dialog, host } = this.find(domain, id);
      const uuid = dialog.a.uuid;
      const full = path === undefined ? 'all' : recordingPath(this.a.settings.recordingsDir, domain, path);
      const words = ['uuid_record', uuid, action, full];
      if (action === 'start' && limit_s !== undefined) words.push(String(limit_s));
      return { ...(await this.act(dialog, host, uuid, eslLine(...words))), path: full };
    },
    async conferences({ domain }) {
      const found = await this.onLiveHosts(async (v) =>
        parseConferenceList(
          await this.run(v.status.name, 'api', 'conference list', COMMAND_MS),
          v.status.name,
        ),
      );
      return {
        conferences: found
          .filter((c) => this.belongs(c.host, c.uuids, domain))
          .map(({ uuids: _, ...c }): Conference => c)
          .sort((x, y) => x.name.localeCompare(y.name) || x.host.localeCompare(y.host)),
      };
    },
    async participants({ domain, name }) {
      return { name, participants: await this.members(domain, name) };
    },
    async kick({ domain, name, uuid }) {
      const member = (await this.members(domain, name)).find((m) => m.uuid === uuid);
      if (!member) throw new ConferenceNotFound(`no participant ${uuid} in conference "${name}"`);
      const reply = await this.run(
        member.host,
        'api',
        eslLine('conference', name, 'kick', String(member.member_id)),
        COMMAND_MS,
      );
      if (!reply.trim().startsWith('+OK'))
        throw new ConferenceNotFound(`no participant ${uuid} in conference "${name}" any more`);
      return { name, uuid, host: member.host, reply: reply.trim() };
    },
  };

  stop(): void {
    this.unsubscribe();
  }

  private onCall(e: CallEvent): void {
    switch (e.kind) {
      case 'created':
        this.times.set(e.uuid, { created: e.at, answered: null });
        if (this.times.size > TIMES_KEPT) this.times.delete(this.times.keys().next().value!);
        return;
      case 'answered': {
        const t = this.times.get(e.uuid);
        if (t) t.answered ??= e.at;
        else this.times.set(e.uuid, { created: null, answered: e.at });
        return;
      }
      case 'ended':
        this.times.delete(e.uuid);
        return;
      case 'bridged':
      case 'unbridged':
      case 'transferred':
      case 'conference-joined':
      case 'conference-left':
      case 'recorded':
        return;
      default: {
        const never: never = e.kind;
        return never;
      }
    }
  }

  private readonly timesOf = (uuid: string): LegTimes | undefined => this.times.get(uuid);

  private dialogs(): Dialog[] {
    return dialogsOf(this.a.farm.all(), this.timesOf);
  }

  /** The dialog holding leg `id` in `domain`; another domain's call is as unknown as a missing one. */
  private find(domain: string, id: string): { dialog: Dialog; host: string } {
    const host = this.a.farm.whereIs(id);
    const view = host === null ? undefined : this.a.farm.get(host);
    const dialog = view && dialogOf(view, id, this.timesOf);
    if (!dialog || dialog.domain !== domain || host === null)
      throw new CallNotFound(`no call ${id} in domain ${domain}`);
    return { dialog, host };
  }

  private legOf(d: Dialog, leg: 'a' | 'b'): string {
    if (leg === 'a') return d.a.uuid;
    if (!d.b) throw new CallNotFound(`call ${d.id} has no B leg`);
    return d.b.uuid;
  }

  /** A `uuid_*` command on `uuid`: `+OK` is the reply, `-ERR No such channel!` a 404, anything else a 502. */
  private async act(d: Dialog, host: string, uuid: string, command: string): Promise<CallActionReply> {
    const reply = uuidResult(await this.run(host, 'api', command, COMMAND_MS), uuid, host);
    return { id: d.id, uuid, host, reply };
  }

  /**
   * The least loaded live, unpaused host: sessions (or the live channels, when the host has not said yet) over its
   * maximum, then the fewer channels.
   */
  private pickHost(): string {
    const live = this.a.farm.all().filter((v) => v.status.state === 'up' && !v.status.paused);
    const load = (v: HostView) =>
      Math.max(v.status.sessions, v.channels.size) / Math.max(1, v.status.max_sessions);
    live.sort(
      (x, y) =>
        load(x) - load(y) || x.channels.size - y.channels.size || x.status.name.localeCompare(y.status.name),
    );
    const best = live[0];
    if (!best) throw new CallHostUnavailable('no FreeSWITCH host is up and taking new calls');
    return best.status.name;
  }

  /** Every live host's answer; a host the board knows as down is skipped, one that fails to answer fails it all. */
  private async onLiveHosts<T>(f: (v: HostView) => Promise<T[]>): Promise<T[]> {
    const live = this.a.farm.all().filter((v) => v.status.state === 'up');
    return (await Promise.all(live.map(f))).flat();
  }

  /** A conference is a domain's when one of its members is a channel of that domain. */
  private belongs(host: string, uuids: readonly string[], domain: string): boolean {
    const channels = this.a.farm.get(host)?.channels;
    return uuids.some((u) => channels?.get(u)?.domain === domain);
  }

  private async members(domain: string, name: string): Promise<Participant[]> {
    const found = await this.onLiveHosts(async (v) => {
      const host = v.status.name;
      const members = parseMembers(
        await this.run(host, 'api', eslLine('conference', name, 'list'), COMMAND_MS),
        host,
      );
      return members &&
        this.belongs(
          host,
          members.map((m) => m.uuid),
          domain,
        )
        ? members
        : [];
    });
    if (found.length === 0) throw new ConferenceNotFound(`no conference "${name}" in domain ${domain}`);
    return found;
  }

  /** A command through the host's actor; its failing (ESL lost, a deadline, the actor restarting) is a 503. */
  private async run(
    host: string,
    kind: 'api' | 'bgapi',
    command: string,
    timeoutMs: number,
  ): Promise<string> {
    try {
      return await this.a.command(host, kind, command, timeoutMs);
    } catch (err) {
      const code = err instanceof MwareError ? err.code : 'MW_ERR_INTERNAL';
      throw new CallHostUnavailable(`FreeSWITCH host ${host} did not answer (${code})`, {
        details: { host, cause: code },
        cause: err,
      });
    }
  }
}
const HANDLERS = CallManager.handlers;

export const callManagerActor = defineActor<FsCallsProtocol, CallManagerArgs>({
  kind: 'freeswitch-calls',
  moduleUrl: import.meta.url,
  exportName: 'callManagerActor',
  messages: {
    list: { payload: DomainOnly, scope: 'calls', summary: 'The active calls of a domain, A and B side' },
    get: { payload: CallRef, scope: 'calls', summary: 'One call by the uuid of one of its legs' },
    originate: {
      payload: OriginateRequest,
      scope: 'calls',
      summary: 'Ring `from`, then dial `to` (ESL originate on the least loaded live host)',
    },
    hangup: { payload: HangupRequest, scope: 'calls', summary: 'Hang up a call (uuid_kill)' },
    transfer: { payload: TransferRequest, scope: 'calls', summary: 'Blind transfer (uuid_transfer)' },
    dtmf: { payload: DtmfRequest, scope: 'calls', summary: 'Send DTMF digits (uuid_send_dtmf)' },
    record: {
      payload: RecordRequest,
      scope: 'calls',
      summary: 'Start or stop recording under the domain’s recordings folder (uuid_record)',
    },
    conferences: { payload: DomainOnly, scope: 'calls', summary: 'The conferences of a domain' },
    participants: { payload: ConferenceRef, scope: 'calls', summary: 'The participants of a conference' },
    kick: { payload: KickRequest, scope: 'calls', summary: 'Kick a participant out of a conference' },
  },
  create: (args) => new CallManager(args),
});
