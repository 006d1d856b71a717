import type { CallEvent } from '../../src/freeswitch/call-events.ts';
import type { MigrationCall } from './protocol.ts';

/**
 * The per-call proof of a migration (05-freeswitch.md: "`+OK N recovered` is not proof"). A call counts as moved
 * only when every leg was re-created on its target (`CHANNEL_CREATE` with `variable_recovered=true`), a bridged
 * call was bridged again, and no leg hung up with a recovery cause before the re-INVITE window closed. Fed with the
 * farm's call events; pure otherwise (time comes in with each question).
 */

/** Hangup causes that mean the recovery failed, not that a party ended the call. */
const RECOVERY_CAUSES = new Set([
  'RECOVERY_ON_TIMER_EXPIRE',
  'INCOMPATIBLE_DESTINATION',
  'DESTINATION_OUT_OF_ORDER',
  // A real 1.10.12 ended unanswered re-INVITEs with this too (the transaction ended 503), besides the timer.
  'NORMAL_TEMPORARY_FAILURE',
  'MEDIA_TIMEOUT',
  'NETWORK_OUT_OF_ORDER',
]);

interface LegProof {
  call: MigrationCall;
  recreatedAt: number | null;
  bridged: boolean;
  ended: { cause: string; at: number } | null;
}

export class MigrationProof {
  private readonly legs = new Map<string, LegProof>();

  constructor(
    readonly calls: readonly MigrationCall[],
    /** Whether a call must be re-bridged: its legs were bridged to each other. */
    private readonly bridgedCall: (c: MigrationCall) => boolean,
  ) {
    for (const c of calls)
      if (c.target)
        for (const uuid of c.legs)
          this.legs.set(uuid, { call: c, recreatedAt: null, bridged: false, ended: null });
  }

  /** Applies one call event (from any host: only the call's target counts for re-creation). */
  see(e: CallEvent): void {
    const leg = this.legs.get(e.uuid);
    if (!leg || e.host !== leg.call.target) return;
    switch (e.kind) {
      case 'created':
        if (e.recovered) leg.recreatedAt ??= e.at;
        break;
      case 'bridged':
        leg.bridged = true;
        break;
      case 'ended':
        leg.ended ??= { cause: e.cause ?? 'UNKNOWN', at: e.at };
        break;
      case 'answered':
      case 'unbridged':
      case 'transferred':
      case 'conference-joined':
      case 'conference-left':
      case 'recorded':
        break;
      default: {
        const never: never = e.kind;
        return never;
      }
    }
    this.update(leg.call);
  }

  /** A leg found live on its target by other means (the host's channel set after a reconnect or a takeover). */
  seenLive(uuid: string, at: number, bridged: boolean): void {
    const leg = this.legs.get(uuid);
    if (!leg || leg.ended) return;
    leg.recreatedAt ??= at;
    leg.bridged ||= bridged;
    this.update(leg.call);
  }

  /** A leg known to have ended (the farm's hangup memory). */
  seenEnded(uuid: string, cause: string, at: number): void {
    const leg = this.legs.get(uuid);
    if (!leg) return;
    leg.ended ??= { cause, at };
    this.update(leg.call);
  }

  /** True when every call with a target has every leg re-created and re-bridged, or is decided already. */
  allRecreated(): boolean {
    return this.calls.every((c) => c.outcome !== 'handed');
  }

  /**
   * After `deadline` passed for re-creation: what was not re-created failed (the target refused it or it never came).
   */
  giveUpRecreation(why: (c: MigrationCall) => string): void {
    for (const c of this.calls)
      if (c.outcome === 'handed') {
        c.outcome = 'failed';
        c.cause = why(c);
      }
  }

  /** When the re-INVITE window of the last re-created call closes (null: nothing is waiting). */
  windowEnd(windowMs: number): number | null {
    let end: number | null = null;
    for (const leg of this.legs.values())
      if (leg.call.outcome === 'recreated' && leg.recreatedAt !== null)
        end = Math.max(end ?? 0, leg.recreatedAt + windowMs);
    return end;
  }

  /** Calls re-created whose window has closed without a fatal hangup are moved. */
  closeWindows(now: number, windowMs: number): void {
    for (const c of this.calls) {
      if (c.outcome !== 'recreated') continue;
      const times = c.legs.map((u) => this.legs.get(u)?.recreatedAt ?? null);
      if (times.every((t) => t !== null && t + windowMs <= now)) c.outcome = 'moved';
    }
  }

  private update(c: MigrationCall): void {
    if (c.outcome === 'lost' || c.outcome === 'failed' || c.outcome === 'moved') return;
    const legs = c.legs.map((u) => this.legs.get(u)!);
    const fatal = legs.find((l) => l.ended && RECOVERY_CAUSES.has(l.ended.cause));
    c.recreated = legs.filter((l) => l.recreatedAt !== null).length;
    c.bridged = legs.some((l) => l.bridged);
    if (fatal?.ended) {
      c.outcome = 'lost';
      c.cause = fatal.ended.cause;
      return;
    }
    const all = c.recreated === legs.length;
    const ended = legs.find((l) => l.ended);
    if (ended?.ended) {
      // A party hung up: a call re-created before that was moved (it lived on the target); otherwise it failed.
      c.outcome = all ? 'moved' : 'failed';
      c.cause = all
        ? `ended by a party (${ended.ended.cause}) after the move`
        : `hung up (${ended.ended.cause}) before it was re-created`;
      return;
    }
    if (all && (!this.bridgedCall(c) || c.bridged)) c.outcome = 'recreated';
  }
}
