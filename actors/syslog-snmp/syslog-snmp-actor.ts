import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import type { EventStream } from '../../src/supervision/events.ts';
import type { SyslogSnmp } from '../../topology/schema.ts';
import type { AlarmNotice } from './alarms.ts';
import { alarmOf } from './alarms.ts';
import { SyslogListeners } from './listeners.ts';
import { defaultEngineId, TRAP, VARBIND } from './oids.ts';
import type { SyslogSnmpProtocol, SyslogSnmpStatus } from './protocol.ts';
import { TokenBucket } from '../../src/rate-limit.ts';
import type { CompiledRule } from './rules.ts';
import { compileRules, matchRule } from './rules.ts';
import type { SyslogMessage } from './syslog-message.ts';
import { parseSyslog } from './syslog-message.ts';
import { TrapSender } from './trap-sender.ts';

/**
 * `/services/syslog-snmp` (06-services.md "Syslog → SNMP trap"): receives syslog on the role's internal address,
 * traps the messages a rule matches (rate-limited by a token bucket) and mware's own alarms (not limited: they are
 * few and each one matters) to every configured manager.
 */

export interface SyslogSnmpArgs {
  config: SyslogSnmp;
  /** The address the listeners bind to (the role's internal interface, or the alias `listen.iface` names). */
  address: string;
  /** The sender's SNMPv3 engine ID when the topology gives none (the role's name). */
  engineName: string;
  /** The node's event stream: warn/error notices of pg, backup and freeswitch become traps. */
  events: EventStream;
  /** Longest syslog message accepted; default 8192. */
  maxFrame?: number;
}

const MAX_CONNECTIONS = 256;

class SyslogSnmpActor implements Behavior<SyslogSnmpProtocol> {
  private readonly rules: CompiledRule[];
  private readonly bucket: TokenBucket;
  private readonly sender: TrapSender;
  private readonly listeners: SyslogListeners;
  private unsubscribe: (() => void) | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly counts = { received: 0, matched: 0, dropped_rate_limit: 0, garbage: 0, alarms: 0 };

  constructor(
    private readonly args: SyslogSnmpArgs,
    private readonly ctx: ActorContext,
  ) {
    const c = args.config;
    this.rules = compileRules(c.rules);
    this.bucket = new TokenBucket(c.rate_limit.per_second, c.rate_limit.burst, () => ctx.clock.now());
    this.sender = new TrapSender(c.managers, c.engine_id ?? defaultEngineId(args.engineName));
    this.listeners = new SyslogListeners(
      {
        address: args.address,
        ...(c.listen.udp_port !== undefined && { udpPort: c.listen.udp_port }),
        ...(c.listen.tcp_port !== undefined && { tcpPort: c.listen.tcp_port }),
        maxFrame: args.maxFrame ?? 8192,
        maxConnections: MAX_CONNECTIONS,
      },
      { message: (raw, from) => this.onSyslog(raw, from), garbage: (why, from) => this.onGarbage(why, from) },
    );
  }

  async start(): Promise<this> {
    try {
      await this.listeners.start();
    } catch (err) {
      this.sender.close();
      await this.listeners.stop();
      throw err;
    }
    if (this.args.config.alarms)
      this.unsubscribe = this.args.events.subscribe((e) => {
        const alarm = alarmOf(e);
        if (alarm) this.onAlarm(alarm);
      });
    return this;
  }

  get handlers(): Handlers<SyslogSnmpProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<SyslogSnmpProtocol, SyslogSnmpActor> = {
    status() {
      return this.status();
    },
  };

  status(): SyslogSnmpStatus {
    return {
      listening: [...this.listeners.bound],
      ...this.counts,
      sent: this.sender.sent,
      managers: this.sender.counters(),
    };
  }

  private onSyslog(raw: string, from: string): void {
    const m = parseSyslog(raw, from);
    if (!m) return this.onGarbage('not a syslog message', from);
    this.counts.received++;
    const rule = matchRule(this.rules, m);
    if (!rule) return;
    this.counts.matched++;
    if (!this.bucket.take()) {
      this.counts.dropped_rate_limit++;
      return;
    }
    this.track(this.sender.send(rule.trapOid, syslogVarbinds(m, rule.name)));
  }

  private onGarbage(why: string, from: string): void {
    this.counts.garbage++;
    this.ctx.log.debug({ from, why }, 'syslog-snmp: garbage');
  }

  private onAlarm(a: AlarmNotice): void {
    this.counts.alarms++;
    this.track(
      this.sender.send(TRAP.alarm, [
        { oid: VARBIND.alarmTopic, value: a.topic },
        { oid: VARBIND.alarmEvent, value: a.event },
        { oid: VARBIND.alarmLevel, value: a.level },
        { oid: VARBIND.alarmMessage, value: a.message },
        { oid: VARBIND.alarmSource, value: a.path },
      ]),
    );
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.listeners.stop();
    await Promise.all(this.pending);
    this.sender.close();
  }
}
const HANDLERS = SyslogSnmpActor.handlers;

function syslogVarbinds(m: SyslogMessage, rule: string) {
  return [
    { oid: VARBIND.syslogHost, value: m.host },
    { oid: VARBIND.syslogProgram, value: m.program },
    { oid: VARBIND.syslogSeverity, value: m.severity },
    { oid: VARBIND.syslogFacility, value: m.facility },
    { oid: VARBIND.syslogMessage, value: m.message },
    { oid: VARBIND.syslogRule, value: rule },
  ];
}

export const syslogSnmpActor = defineActor<SyslogSnmpProtocol, SyslogSnmpArgs>({
  kind: 'syslog-snmp',
  moduleUrl: import.meta.url,
  exportName: 'syslogSnmpActor',
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary:
        'Where it listens and its counters: received, matched, sent, rate-limited, garbage, per-manager errors',
    },
  },
  create: (args, ctx) => new SyslogSnmpActor(args, ctx).start(),
});
