import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { metadataFacts, nextInviteCseq, rewriteMetadata } from '../../src/freeswitch/metadata.ts';
import type { MetadataFacts } from '../../src/freeswitch/metadata.ts';
import type { RecoveryRow, RecoveryTable } from '../../src/freeswitch/recovery-table.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import type { ServiceNotice } from '../../src/supervision/events.ts';
import { FsMigrationRefused } from '../../src/freeswitch/errors.ts';
import { MediaPortPicker } from '../../src/freeswitch/media-ports.ts';
import type { FsFarm } from './farm.ts';
import { planMigration } from './plan.ts';
import type { PlanLeg, PlanTarget } from './plan.ts';
import { MigrationProof } from './proof.ts';
import type { MigrationCall, MigrationPhase, MigrationRecord, TargetRecovery } from './protocol.ts';
import type { FsFarmSettings, FsHostSettings } from './settings.ts';

/**
 * One migration, step by step (05-freeswitch.md "Migration recipe"): read the source's rows, plan, hand each target
 * its share (rewritten metadata + an assignment that makes the rows visible to it alone), stop a living source
 * without BYE, `fsctl recover` on every target at once, follow each leg to its proof, remove what a failed clean-up
 * left, report per call. Every phase change is saved (a takeover resumes from it) and announced with the epoch.
 */

export interface MigrationDeps {
  settings: FsFarmSettings;
  farm: FsFarm;
  table: RecoveryTable;
  /** An ESL command on a host, through its actor. */
  command(host: string, kind: 'api' | 'bgapi', command: string, timeoutMs: number): Promise<string>;
  clock: Clock;
  epoch(): number;
  leading(): boolean;
  notify(n: Omit<ServiceNotice, 'type' | 'topic' | 'epoch'>): void;
  /** Saves the record (durably, under the epoch). */
  save(r: MigrationRecord): Promise<void>;
  dataDir: string;
}

/** How long the recovered legs' CHANNEL_CREATE may trail `fsctl recover`'s reply. */
const RECREATE_GRACE_MS = 5_000;
/** Rows are written through FreeSWITCH's SQL queue: a just-answered call's row may trail its channel. */
const ROW_WAIT_MS = 3_000;
/** A drained host's ringing calls (no row: not recoverable) get this long to answer or end. */
const RINGING_WAIT_MS = 10_000;

export class Migration {
  private proof: MigrationProof | undefined;
  private rows = new Map<string, RecoveryRow>();
  /** Each row's metadata read once (an XML CDR of a few kB per leg; thousands of them in a big migration). */
  private readonly facts = new Map<string, MetadataFacts>();
  private stopFollowing: (() => void) | undefined;
  private decidedAt: number;

  constructor(
    readonly record: MigrationRecord,
    private readonly d: MigrationDeps,
    private readonly resumed: boolean,
  ) {
    this.decidedAt = d.clock.now();
  }

  stop(): void {
    this.stopFollowing?.();
  }

  /** Runs (or resumes) to the end; resolves with the finished record. */
  async run(): Promise<MigrationRecord> {
    const r = this.record;
    try {
      if (this.resumed)
        this.note('resumed', 'info', `migration ${r.id} of ${r.source} resumed at ${r.phase}`);
      if (r.phase === 'planning' || r.phase === 'pausing' || r.phase === 'stopping-source')
        await this.prepare();
      if (r.phase === 'handing-over' || r.phase === 'recovering') await this.recover();
      if (r.phase === 'confirming') await this.confirm();
      if (r.phase === 'cleaning') await this.clean();
      await this.finish('done', null);
    } catch (err) {
      await this.finish('failed', err instanceof Error ? err.message : String(err));
    } finally {
      this.stop();
    }
    return r;
  }

  // ------------------------------------------------------------------------------------------------ the steps

  private async prepare(): Promise<void> {
    const r = this.record;
    const source = this.host(r.source);
    const state = this.d.farm.get(r.source)?.status.state;
    r.source_core_uuid = this.d.farm.get(r.source)?.status.core_uuid ?? r.source_core_uuid;
    if (r.phase !== 'stopping-source' && (state === 'up' || state === 'not-ready')) {
      if (r.kind !== 'failover') {
        await this.phase('pausing');
        const out = await this.d.command(r.source, 'bgapi', 'fsctl pause', 10_000);
        this.note('source-paused', 'info', `${r.source} paused: no new calls (${out.trim()})`);
        await this.settleSource();
        // Refused before anything is stopped: a drain must not drop a call it cannot place. Judged on the host's
        // live channels (the rows are read, and the plan made, once the source has stopped).
        const live = [...(this.d.farm.get(r.source)?.channels.values() ?? [])].filter((c) => c.answered);
        const homeless = planMigration(
          live.map((c) => ({
            uuid: c.uuid,
            profile: c.profile ?? '',
            partner: c.partner,
            conference: c.conference,
          })),
          this.targets(),
          { exclude: [r.source], ...(r.allowed.length > 0 && { allowed: r.allowed }) },
        ).find((c) => c.target === null);
        if (homeless) {
          await this.d.command(r.source, 'bgapi', 'fsctl resume', 10_000).catch(() => undefined);
          throw new FsMigrationRefused(
            `not every call of ${r.source} has a target: ${homeless.reason ?? ''}`,
          );
        }
      }
      await this.phase('stopping-source');
    }
    if (r.phase === 'stopping-source') await this.stopSource();
    await this.phase('planning');
    // Read after the source stopped: no update of its own can overwrite the rewritten metadata any more. Rows of
    // an earlier life of the host (another runtime_uuid) are calls that died with it: the same recovery.
    const rows = await this.d.table.rowsOf(source.switchname);
    for (const row of rows) this.rows.set(row.uuid, row);
    this.plan(rows);
    await this.phase('handing-over');
  }

  /** A living source: wait for ringing calls to settle and for every answered call's row to be written. */
  private async settleSource(): Promise<void> {
    const until = this.d.clock.now() + RINGING_WAIT_MS;
    while (this.d.clock.now() < until) {
      const channels = [...(this.d.farm.get(this.record.source)?.channels.values() ?? [])];
      if (channels.every((c) => c.answered)) break;
      await this.sleep(100);
    }
    const answered = [...(this.d.farm.get(this.record.source)?.channels.values() ?? [])]
      .filter((c) => c.answered)
      .map((c) => c.uuid);
    const rowsUntil = this.d.clock.now() + ROW_WAIT_MS;
    for (;;) {
      const have = new Set((await this.d.table.rowsByUuid(answered)).map((x) => x.uuid));
      if (answered.every((u) => have.has(u)) || this.d.clock.now() >= rowsUntil) break;
      await this.sleep(100);
    }
  }

  private plan(rows: readonly RecoveryRow[]): void {
    const r = this.record;
    const legs: PlanLeg[] = rows.map((row) => {
      const f = this.factsOf(row);
      return { uuid: row.uuid, profile: row.profile_name, partner: f.partner, conference: f.conference };
    });
    const targets = this.targets();
    const allowed = r.allowed.length > 0 ? r.allowed : undefined;
    const planned = planMigration(legs, targets, { exclude: [r.source], ...(allowed && { allowed }) });
    r.calls = planned.map((p): MigrationCall => {
      const first = this.rows.get(p.legs[0]!);
      const f = first ? this.factsOf(first) : null;
      return {
        id: p.id,
        legs: p.legs,
        target: p.target,
        outcome: p.target ? 'planned' : 'failed',
        cause: p.reason,
        domain: f?.domain ?? null,
        caller: f?.caller ?? null,
        callee: f?.callee ?? null,
        conference: p.conference,
        recreated: 0,
        bridged: false,
      };
    });
    r.recoveries = [...new Set(planned.flatMap((p) => (p.target ? [p.target] : [])))]
      .sort()
      .map((target): TargetRecovery => ({
        target,
        handed: false,
        sent: false,
        reply: null,
        count: null,
        ms: null,
      }));
    const placed = r.calls.filter((c) => c.target).length;
    this.note(
      'planned',
      placed === r.calls.length ? 'info' : 'warn',
      `${r.source}: ${r.calls.length} call(s) in ${rows.length} row(s); ${placed} placed on ` +
        `${r.recoveries.map((x) => `${x.target} (${r.calls.filter((c) => c.target === x.target).length})`).join(', ') || 'no host'}`,
      { calls: r.calls.length, legs: rows.length },
    );
  }

  /** A living source must stop without BYE, or it would hang up the calls once they are on their targets. */
  private async stopSource(): Promise<void> {
    const r = this.record;
    // `fsctl crash` gets no reply: the connection just closes (observed on 1.10.12).
    await this.d.command(r.source, 'api', 'fsctl crash', 2_000).catch(() => undefined);
    const until = this.d.clock.now() + 5_000;
    while (this.d.farm.get(r.source)?.status.state === 'up' && this.d.clock.now() < until)
      await this.sleep(20);
    this.note('source-stopped', 'info', `${r.source} stopped without BYE (fsctl crash)`);
  }

  /** Resumed: the source's rows are read again (the record keeps only the plan). */
  private async rereadRows(): Promise<void> {
    const r = this.record;
    if (this.rows.size > 0) return;
    const all = await this.d.table.rowsByUuid(r.calls.flatMap((c) => c.legs));
    for (const row of all) if (row.hostname === this.host(r.source).switchname) this.rows.set(row.uuid, row);
  }

  /** One target's share: its rows rewritten and assigned to it, in one fenced statement. */
  private async handOverTo(rec: TargetRecovery): Promise<void> {
    const r = this.record;
    const target = this.host(rec.target);
    const calls = r.calls.filter((c) => c.target === rec.target && c.outcome === 'planned');
    const rows = calls.flatMap((c) => c.legs.flatMap((u) => this.rows.get(u) ?? []));
    const now = this.d.clock.wallNow();
    const farmAddresses = [...new Set(this.d.settings.hosts.flatMap((h) => [h.sipIp, h.mediaIp]))];
    // A recovered leg binds the port its metadata names, on a target whose own calls may hold it (FINDINGS.md g).
    const ports = this.d.settings.rewriteMedia
      ? new MediaPortPicker(
          target.rtpPorts,
          await this.d.table.mediaPortsOf(
            target.switchname,
            rows.map((x) => x.uuid),
          ),
        )
      : null;
    const full: string[] = [];
    const handed = rows.map((row) => {
      if (!ports) return { uuid: row.uuid, metadata: row.metadata };
      const f = this.factsOf(row);
      const port = f.mediaPort === null ? null : ports.pick(f.mediaPort);
      if (f.mediaPort !== null && port === null) full.push(row.uuid);
      return {
        uuid: row.uuid,
        metadata: rewriteMetadata(row.metadata, {
          mediaIp: target.mediaIp,
          sipIp: target.sipIp,
          farmAddresses,
          inviteCseq: nextInviteCseq(f.inviteCseq, now),
          ...(port !== null && { mediaPort: port }),
        }),
      };
    });
    if (full.length > 0)
      this.note(
        'media-ports-full',
        'warn',
        `${rec.target} has no free RTP port left in ${target.rtpPorts.start}-${target.rtpPorts.end} for ` +
          `${full.length} leg(s): they keep their port, which a call there may hold (${full.join(', ')})`,
        { target: rec.target, legs: full.length },
      );
    const n = await this.d.table.assign(
      {
        target: target.switchname,
        source: this.host(r.source).switchname,
        migration: r.id,
        epoch: this.d.epoch(),
      },
      handed,
    );
    for (const c of calls) {
      const missing = c.legs.filter((u) => !this.rows.has(u));
      if (missing.length > 0) {
        c.outcome = 'failed';
        c.cause = `its recovery row is gone (${missing.join(', ')}): the call ended before the hand-over`;
      } else c.outcome = 'handed';
    }
    rec.handed = true;
    const rewritten = this.d.settings.rewriteMedia
      ? ` (media and Via rewritten to ${target.mediaIp}, RTP ports free there)`
      : '';
    this.note('handed', 'info', `${n} row(s) handed to ${rec.target}${rewritten}`, {
      target: rec.target,
      rows: n,
    });
  }

  /**
   * Every target at once, each on its own: its share handed over, then its `fsctl recover` (a target need not wait
   * for the others' hand-over — the rows it sees are its own). Per target, `handed` and `sent` are saved before
   * the next step, so a resumed migration knows what may already have happened.
   */
  private async recover(): Promise<void> {
    const r = this.record;
    if (r.phase !== 'handing-over') await this.phase('handing-over');
    await this.rereadRows();
    this.follow();
    let handedAll = r.recoveries.every((x) => x.handed);
    await Promise.all(
      r.recoveries.map(async (rec) => {
        if (!rec.handed) await this.handOverTo(rec);
        if (!handedAll && r.recoveries.every((x) => x.handed)) {
          handedAll = true;
          // Every share is handed over: the phase says so (recoveries may have begun already).
          await this.phase('recovering');
        }
        await this.recoverOn(rec);
      }),
    );
    if (r.phase !== 'recovering') await this.phase('recovering');
    r.recover_ms = Math.max(0, ...r.recoveries.map((x) => x.ms ?? 0));
    await this.phase('confirming');
  }

  private async recoverOn(rec: TargetRecovery): Promise<void> {
    const r = this.record;
    const legs = r.calls.filter((c) => c.target === rec.target).reduce((n, c) => n + c.legs.length, 0);
    // Sent before a takeover: FreeSWITCH may still be at it. Its rows say what is left.
    if (rec.sent && this.resumed && (await this.recoveredMeanwhile(rec.target))) return;
    rec.sent = true;
    await this.d.save(r);
    const started = this.d.clock.now();
    const reply = await this.d.command(rec.target, 'bgapi', 'fsctl recover', 30_000 + legs * 20);
    rec.ms = Math.round(this.d.clock.now() - started);
    rec.reply = reply.trim();
    const m = /\+OK\s+(\d+)\s+session/.exec(reply);
    rec.count = m?.[1] ? Number(m[1]) : null;
    this.note('recover-replied', 'info', `${rec.target}: ${rec.reply} in ${rec.ms} ms (not proof yet)`, {
      target: rec.target,
      count: rec.count,
      ms: rec.ms,
    });
  }

  /** After a takeover: true when the target's assigned rows are gone or only stale (their legs live there). */
  private async recoveredMeanwhile(target: string): Promise<boolean> {
    const r = this.record;
    const legs = r.calls.filter((c) => c.target === target).flatMap((c) => c.legs);
    let before = -1;
    for (;;) {
      const left = (await this.d.table.rowsByUuid(legs)).filter(
        (x) => x.hostname === this.host(r.source).switchname,
      );
      const waiting = left.filter((x) => this.d.farm.whereIs(x.uuid) !== target);
      if (waiting.length === 0) return true;
      // Still shrinking: FreeSWITCH is recovering. Stable: it is not, send again (it refuses uuids it has).
      if (waiting.length === before) return false;
      before = waiting.length;
      await this.sleep(2_000);
    }
  }

  private async confirm(): Promise<void> {
    const r = this.record;
    this.follow();
    const proof = this.proof!;
    // Legs live already (events before a takeover, or a reconnect) are taken from the hosts' channel sets.
    const now = this.d.clock.wallNow();
    for (const c of r.calls) {
      if (!c.target || c.outcome !== 'handed') continue;
      const channels = this.d.farm.get(c.target)?.channels;
      for (const u of c.legs) {
        const ch = channels?.get(u);
        if (ch) proof.seenLive(u, now, ch.partner !== null && c.legs.includes(ch.partner));
        else {
          const h = this.d.farm.hangupOf(u);
          if (h && h.host === c.target) proof.seenEnded(u, h.cause, h.at);
        }
      }
    }
    const until = this.d.clock.now() + RECREATE_GRACE_MS;
    while (!proof.allRecreated() && this.d.clock.now() < until) await this.sleep(10);
    proof.giveUpRecreation((c) =>
      c.recreated < c.legs.length
        ? `${c.legs.length - c.recreated} of ${c.legs.length} leg(s) not re-created on ${c.target} (the target refused or lost them)`
        : `not re-bridged on ${c.target}`,
    );
    r.recreate_ms = Math.round(this.d.clock.now() - this.decidedAt);
    this.note(
      'recreated',
      'info',
      `${r.calls.filter((c) => c.outcome === 'recreated').length} of ${r.calls.length} call(s) re-created in ${r.recreate_ms} ms; waiting out the re-INVITE window`,
      {
        recreate_ms: r.recreate_ms,
      },
    );
    // The rows a target's failed clean-up left: gone once their calls are confirmed where they now live.
    await this.removeStale();
    await this.d.save(r);
    const windowMs = this.d.settings.reinviteWindowMs;
    for (;;) {
      const end = proof.windowEnd(windowMs);
      if (end === null) break;
      const wait = end - this.d.clock.wallNow();
      if (wait > 0) await this.sleep(Math.min(wait + 20, 1_000));
      proof.closeWindows(this.d.clock.wallNow(), windowMs);
    }
    await this.phase('cleaning');
  }

  private async removeStale(): Promise<void> {
    const r = this.record;
    const source = this.host(r.source).switchname;
    const confirmed = r.calls
      .filter((c) => c.outcome === 'recreated' || c.outcome === 'moved')
      .flatMap((c) => c.legs);
    const left = (await this.d.table.rowsByUuid(confirmed)).filter((x) => x.hostname === source);
    let removed = 0;
    for (const runtime of new Set(left.map((x) => x.runtime_uuid)))
      removed += await this.d.table.removeStale(
        left.filter((x) => x.runtime_uuid === runtime).map((x) => x.uuid),
        runtime,
      );
    if (removed > 0) {
      r.stale_removed += removed;
      this.note(
        'stale-removed',
        'warn',
        `${removed} row(s) the target's clean-up left behind removed (their calls live on their targets)`,
        {
          rows: removed,
        },
      );
    }
  }

  private async clean(): Promise<void> {
    const r = this.record;
    await this.removeStale();
    await this.d.table.release(r.id);
    const bad = r.calls.filter((c) => c.outcome === 'failed' || c.outcome === 'lost');
    if (bad.length > 0) {
      const file = join(this.d.dataDir, `fs-migration-${r.id}.failed.json`);
      const lines = bad.map((c) => ({
        ...c,
        rows: c.legs.map((u) => this.rows.get(u) ?? { uuid: u, metadata: null }),
      }));
      await writeFile(file, JSON.stringify(lines, null, 1), { mode: 0o600 });
      r.failed_file = file;
    }
  }

  private async finish(phase: 'done' | 'failed', reason: string | null): Promise<void> {
    const r = this.record;
    r.phase = phase;
    r.reason = reason;
    r.finished_at = this.d.clock.wallNow();
    const count = (o: MigrationCall['outcome']): number => r.calls.filter((c) => c.outcome === o).length;
    this.note(
      phase === 'done' ? 'finished' : 'failed',
      phase === 'done' && count('lost') + count('failed') === 0 ? 'info' : 'error',
      `migration ${r.id} of ${r.source} ${phase}: ${count('moved')} moved, ${count('lost')} lost, ${count('failed')} failed` +
        (reason ? ` — ${reason}` : ''),
      { moved: count('moved'), lost: count('lost'), failed: count('failed'), recreate_ms: r.recreate_ms },
    );
    if (this.d.leading()) await this.d.save(r).catch(() => undefined);
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** Every host as a candidate, as the board sees it now. */
  private targets(): PlanTarget[] {
    return this.d.settings.hosts.map((h) => {
      const v = this.d.farm.get(h.name);
      return {
        name: h.name,
        profiles: h.profiles,
        sessions: v?.status.sessions ?? 0,
        maxSessions: v?.status.max_sessions ?? 1000,
        live: v?.status.state === 'up',
        paused: v?.status.paused ?? false,
      };
    });
  }

  private factsOf(row: RecoveryRow): MetadataFacts {
    let f = this.facts.get(row.uuid);
    if (!f) {
      f = metadataFacts(row.metadata);
      this.facts.set(row.uuid, f);
    }
    return f;
  }

  private follow(): void {
    if (this.proof) return;
    const bridged = new Set<string>();
    for (const c of this.record.calls)
      for (const u of c.legs) {
        const row = this.rows.get(u);
        const partner = row ? this.factsOf(row).partner : null;
        if (partner && c.legs.includes(partner)) bridged.add(c.id);
      }
    // Resumed without the rows: a two-leg call with no conference is a bridge.
    const needsBridge = (c: MigrationCall): boolean =>
      bridged.has(c.id) || (this.rows.size === 0 && c.legs.length === 2 && c.conference === null);
    const proof = new MigrationProof(this.record.calls, needsBridge);
    this.proof = proof;
    this.stopFollowing = this.d.farm.onCall((e) => proof.see(e));
  }

  private async phase(p: MigrationPhase): Promise<void> {
    if (!this.d.leading())
      throw new FsMigrationRefused('this node is no longer the active instance of its group');
    this.record.phase = p;
    this.record.epoch = this.d.epoch();
    await this.d.save(this.record);
    this.note('phase', 'info', `migration ${this.record.id} of ${this.record.source}: ${p}`);
  }

  private note(
    event: string,
    level: ServiceNotice['level'],
    message: string,
    data: Record<string, unknown> = {},
  ): void {
    this.d.notify({
      event,
      level,
      message,
      data: { migration: this.record.id, source: this.record.source, ...data },
    });
  }

  private host(name: string): FsHostSettings {
    const h = this.d.settings.hosts.find((x) => x.name === name);
    if (!h) throw new FsMigrationRefused(`unknown FreeSWITCH host "${name}"`);
    return h;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.d.clock.setTimeout(resolve, ms));
  }
}
