import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelRec } from './channel.ts';
import { viaHostOf } from './channel.ts';
import type { SimFreeswitch } from './host.ts';
import { CF, parseMetadata } from './metadata.ts';
import type { NewRow, RecoveryRow } from './recovery-sql.ts';

/**
 * switch_core_recovery_recover (switch_core_sqldb.c:3270) with mod_sofia's callback and what a real 1.10.12 did:
 * select every row whose runtime_uuid is not ours, recover what can be, then delete every selected row
 * (recovered or not) — unless a test asked the clean-up to fail, as the real one's deadlock did.
 */
export async function recoverRows(h: SimFreeswitch, technology?: string, profile?: string): Promise<number> {
  const core = h.coreUuid();
  const rows = await h.sql.select(core, technology, profile);
  const started = Date.now();
  const recovered: ChannelRec[] = [];
  let count = 0;
  let newRows: NewRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (!h.up) return count;
    const c = recoverOne(h, rows[i] as RecoveryRow);
    if (c) {
      count++;
      if (h.chans.has(c.uuid)) {
        recovered.push(c);
        // The row is written when CF_RECOVERING clears in on_init (switch_core_state_machine.c:52 →
        // switch_channel.c:2212): at once, before any peer answered the re-INVITE.
        newRows.push({
          runtimeUuid: core,
          profile: c.profile,
          hostname: h.o.switchname,
          uuid: c.uuid,
          metadata: h.metadataOf(c),
        });
      }
    }
    const done = i + 1;
    if (done % h.o.recoverBatch === 0 || done === rows.length) {
      if (newRows.length > 0) await h.sql.insert(newRows);
      newRows = [];
      // A real FreeSWITCH spends ≈ recoverMsPerLeg per leg; sleep (not spin) so other hosts keep running.
      const wait = started + done * h.o.recoverMsPerLeg - Date.now();
      if (wait > 0) await sleep(wait);
    }
  }
  if (!h.up) return count;
  rebuild(h, recovered);
  if (h.cleanupFails) {
    h.cleanupFails = false;
  } else {
    await h.sql.deleteForeign(core, technology, profile);
  }
  return count;
}

/** One row → a channel (or undefined where FreeSWITCH refuses it and does not count it). */
function recoverOne(h: SimFreeswitch, row: RecoveryRow): ChannelRec | undefined {
  const meta = parseMetadata(row.metadata);
  if (!meta) return undefined; // "XML ERROR"
  if (row.technology !== 'sofia') return undefined; // "EP ERROR"
  const uuid = meta.vars.get('uuid') ?? row.uuid;
  // switch_core_session_request_uuid (switch_core_session.c:2384-2410): paused (inbound or outbound) or a
  // duplicate uuid → "Invalid cdr data, call not recovered".
  if (h.paused || h.chans.has(uuid)) return undefined;
  // sofia_recover_callback (sofia_glue.c:2279): the profile named in recovery_profile_name must run here.
  const profile = meta.vars.get('recovery_profile_name');
  if (profile === undefined || !h.o.profiles.includes(profile)) return undefined; // "Invalid profile"
  const v = new Map(meta.vars);
  const now = Date.now() * 1000;
  const bond = v.get('signal_bond') ?? v.get('originate_signal_bond');
  const confApp = meta.extension.find((a) => a.app === 'conference');
  const c: ChannelRec = {
    uuid,
    direction: meta.direction,
    profile,
    domain: v.get('domain_name') ?? '',
    callId: v.get('sip_call_id') ?? '',
    callerName: meta.caller.get('caller_id_name') ?? '',
    callerNumber: meta.caller.get('caller_id_number') ?? '',
    destNumber: meta.caller.get('destination_number') ?? '',
    state: 'CS_INIT',
    // Observed: `show channels` lists recovered outbound legs as DOWN though they are up.
    callState: meta.direction === 'outbound' ? 'DOWN' : 'ACTIVE',
    createdUs: meta.times.get('created_time') ?? now,
    answeredUs: meta.times.get('answered_time') ?? now,
    bridgedUs: 0,
    resurrectUs: now,
    originator: meta.flags.has(CF.BRIDGE_ORIGINATOR),
    recovered: true,
    mediaIp: v.get('local_media_ip') ?? '',
    // Bound as the metadata says, whatever this host's range and whoever else is bound there (FINDINGS.md g).
    mediaPort: Number(v.get('local_media_port') ?? 0),
    rtpBoundAt: h.nextBind(),
    advertisedMediaIp: v.get('advertised_media_ip') ?? v.get('local_media_ip') ?? '',
    viaHost: viaHostOf(v.get('sip_recover_via')) ?? h.o.sipIp,
    peer: h.peerOf(uuid),
    app: v.get('current_application') ?? '',
    appData: v.get('current_application_data') ?? '',
    extension: meta.extension,
    vars: v,
  };
  if (bond !== undefined) c.bridgedTo = bond;
  for (const k of [
    'signal_bond',
    'originate_signal_bond',
    'bridge_to',
    'bridge_uuid',
    'conference_member_id',
  ])
    v.delete(k);
  if (confApp !== undefined && bond === undefined) c.conference = confApp.data;
  h.chans.set(uuid, c);
  h.fireChannel('CHANNEL_CREATE', c);
  // switch_core_media_recover_session binds RTP on local_media_ip (switch_core_media.c:14036): an address this
  // host does not own fails the bind, "AUDIO RTP REPORTS ERROR" → INCOMPATIBLE_DESTINATION (switch_core_media.c:
  // 9649). The leg is still counted; it hangs up in CS_NEW, below CS_SOFT_EXECUTE, so untrack deletes nothing.
  if (!h.o.addresses.includes(c.mediaIp)) {
    void h.hangupLeg(c, 'INCOMPATIBLE_DESTINATION', false);
    return c;
  }
  c.state = c.direction === 'outbound' ? 'CS_EXCHANGE_MEDIA' : 'CS_EXECUTE';
  if (!survivesReinvite(h, c)) {
    // The re-INVITE's answer never arrives: the transaction times out and the leg hangs up, sending no BYE.
    c.timer = h.timer(h.o.reinviteWindowMs, () => {
      const live = h.chans.get(uuid);
      if (live === c) void h.hangupCall(c, 'RECOVERY_ON_TIMER_EXPIRE').catch(() => undefined);
    });
  }
  return c;
}

function survivesReinvite(h: SimFreeswitch, c: ChannelRec): boolean {
  switch (c.peer) {
    case 'rport':
      return true;
    case 'old-address':
      return false;
    case 'via':
      return h.o.addresses.includes(c.viaHost) || c.viaHost === h.o.sipIp;
  }
}

/**
 * Bridged pairs are re-joined by the originator leg in on_reset (switch_core_state_machine.c:184-217, the partner
 * found by signal_bond); an unbridged leg replays its extension, so a `conference` application re-joins the
 * conference silently under its name (mod_conference.c:1923 and :2023, last_transfered_conference first).
 */
function rebuild(h: SimFreeswitch, recovered: ChannelRec[]): void {
  for (const c of recovered) {
    if (!h.chans.has(c.uuid)) continue;
    if (c.bridgedTo !== undefined) {
      const partner = h.chans.get(c.bridgedTo);
      if (!partner || !partner.recovered) {
        // The originator waits 2 s for its partner and gives up (switch_core_state_machine.c:193).
        delete c.bridgedTo;
        continue;
      }
      if (!c.originator) continue;
      h.timer(h.o.bridgeDelayMs, () => {
        if (h.chans.get(c.uuid) === c && h.chans.get(partner.uuid) === partner)
          h.bridgeLegs(c, partner, true);
      });
    } else if (c.conference !== undefined) {
      const name = c.vars.get('last_transfered_conference') ?? c.conference.split('@')[0] ?? c.conference;
      h.joinConference(c, name);
    }
  }
}
