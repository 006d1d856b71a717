import type { FsChannel } from './protocol.ts';

/**
 * The channel set from `show channels as json` and `show calls as json` (a host actor's reconciliation after a
 * connect). FreeSWITCH answers `{"row_count":N,"rows":[…]}`, or `{"row_count": 0}` with no rows at all; anything
 * else (an `-ERR`, a truncated body) yields no channels rather than a crash: the events fill the set in.
 * Recovered outbound legs show `callstate: DOWN` although they are up (observed on 1.10.12): a leg counts as
 * answered unless it is still ringing.
 */
type Row = Record<string, unknown>;

export function channelsFromShow(channelsJson: string, callsJson: string): FsChannel[] {
  const partners = new Map<string, string>();
  for (const r of rowsOf(callsJson)) {
    const a = str(r['uuid']);
    const b = str(r['b_uuid']);
    if (a && b) {
      partners.set(a, b);
      partners.set(b, a);
    }
  }
  return rowsOf(channelsJson).flatMap((r): FsChannel[] => {
    const uuid = str(r['uuid']);
    if (!uuid) return [];
    const direction = str(r['direction']);
    const callstate = str(r['callstate']) ?? '';
    const app = str(r['application']);
    const presence = str(r['presence_id']) ?? '';
    const profile = /^sofia\/([^/]+)\//.exec(str(r['name']) ?? '')?.[1] ?? null;
    return [
      {
        uuid,
        direction: direction === 'inbound' || direction === 'outbound' ? direction : null,
        state: str(r['state']) ?? 'CS_NEW',
        answered: !['RINGING', 'EARLY', 'RING_WAIT'].includes(callstate),
        partner: partners.get(uuid) ?? null,
        conference: app === 'conference' ? ((str(r['application_data']) ?? '').split('@')[0] ?? null) : null,
        profile,
        domain: presence.includes('@') ? presence.slice(presence.indexOf('@') + 1) : null,
        caller: str(r['cid_num']),
        callee: str(r['dest']) ?? str(r['callee_num']),
        callId: null,
        recovered: false,
      },
    ];
  });
}

function rowsOf(json: string): Row[] {
  try {
    const v: unknown = JSON.parse(json);
    if (typeof v === 'object' && v !== null && Array.isArray((v as { rows?: unknown }).rows))
      return (v as { rows: unknown[] }).rows.filter((r): r is Row => typeof r === 'object' && r !== null);
  } catch {
    // Not JSON: nothing to reconcile from.
  }
  return [];
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
