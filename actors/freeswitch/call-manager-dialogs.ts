import type { CallSide, Dialog } from './call-manager-protocol.ts';
import type { HostView } from './farm.ts';
import type { FsChannel } from './protocol.ts';

/**
 * Dialogs from the farm board: a bridged pair of legs is one dialog, a leg alone (ringing, parked, in a conference)
 * is one too. Which leg is A: the one created first, as far as this node saw it; else the inbound one (the caller's);
 * else the lower uuid — so a dialog keeps its id across listings.
 */

/** When this node saw each leg created and answered (the board keeps no times; the events carry them). */
export interface LegTimes {
  created: number | null;
  answered: number | null;
}

export function dialogsOf(
  views: readonly HostView[],
  times: (uuid: string) => LegTimes | undefined,
): Dialog[] {
  const out: Dialog[] = [];
  for (const v of views) {
    const seen = new Set<string>();
    for (const c of v.channels.values()) {
      if (seen.has(c.uuid)) continue;
      const partner = c.partner ? v.channels.get(c.partner) : undefined;
      seen.add(c.uuid);
      if (partner) seen.add(partner.uuid);
      out.push(dialog(v.status.name, c, partner, times));
    }
  }
  return out.sort((x, y) => (x.a.answered_at ?? 0) - (y.a.answered_at ?? 0) || x.id.localeCompare(y.id));
}

/** The dialog holding leg `uuid` on `view`, or undefined when that host has no such leg. */
export function dialogOf(
  view: HostView,
  uuid: string,
  times: (uuid: string) => LegTimes | undefined,
): Dialog | undefined {
  const c = view.channels.get(uuid);
  if (!c) return undefined;
  return dialog(view.status.name, c, c.partner ? view.channels.get(c.partner) : undefined, times);
}

function dialog(
  host: string,
  c: FsChannel,
  partner: FsChannel | undefined,
  times: (uuid: string) => LegTimes | undefined,
): Dialog {
  const [a, b] = partner && comesFirst(partner, c, times) ? [partner, c] : [c, partner];
  return {
    id: a.uuid,
    // A dialog is its A leg's domain's (its B leg's when the A leg carries none).
    domain: a.domain ?? b?.domain ?? '',
    host,
    a: side(host, a, times(a.uuid)),
    b: b ? side(host, b, times(b.uuid)) : null,
  };
}

function comesFirst(x: FsChannel, y: FsChannel, times: (uuid: string) => LegTimes | undefined): boolean {
  const tx = times(x.uuid)?.created ?? null;
  const ty = times(y.uuid)?.created ?? null;
  if (tx !== null && ty !== null && tx !== ty) return tx < ty;
  if (x.direction !== y.direction) return x.direction === 'inbound';
  return x.uuid < y.uuid;
}

function side(host: string, c: FsChannel, t: LegTimes | undefined): CallSide {
  return {
    uuid: c.uuid,
    // The party on the leg: FreeSWITCH's caller on an inbound leg, the dialled number on an outbound one.
    number: c.direction === 'outbound' ? c.callee : c.caller,
    caller: c.caller,
    callee: c.callee,
    direction: c.direction,
    state: !c.answered ? 'ringing' : c.conference ? 'conference' : c.partner ? 'bridged' : 'answered',
    channel_state: c.state,
    host,
    answered: c.answered,
    answered_at: t?.answered ?? null,
    conference: c.conference,
  };
}
