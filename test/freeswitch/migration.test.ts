import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { MigrationRecord } from '../../actors/freeswitch/protocol.ts';
import type { SimCall, SimHost } from '../harness/esl-simulator/index.ts';
import type { FsNode, SimFarm } from '../support/fs-node.ts';
import { fsTopology, startFsNode, startSimFarm } from '../support/fs-node.ts';

/**
 * Call recovery and migration end to end: one mware node, three simulated FreeSWITCH hosts (ESL simulators), and a
 * real PostgreSQL 15 holding the shared `recovery` table (row-level security installed by mware). The re-INVITE
 * window is shortened to one second on both sides.
 */

const WINDOW_MS = 1_000;
const ADDR: Record<string, string> = { fs01: '127.0.0.21', fs02: '127.0.0.22', fs03: '127.0.0.23' };

describe('FreeSWITCH call recovery and migration (simulated hosts, real PostgreSQL)', () => {
  let farm: SimFarm;
  let admin: pg.Client;
  let dir: string;
  let node: FsNode;
  const sims: Record<string, SimHost> = {};

  before(async () => {
    farm = await startSimFarm(
      'pg-fs-migration',
      Object.entries(ADDR).map(([name, ip]) => ({
        name,
        ip,
        profiles: name === 'fs03' ? ['internal'] : ['internal', 'external'],
      })),
      { recoverMsPerLeg: 1, reinviteWindowMs: WINDOW_MS },
    );
    admin = farm.admin;
    Object.assign(sims, farm.sims);
    dir = mkdtempSync(join(tmpdir(), 'mware-fs-'));
    node = await startFsNode(
      dir,
      await fsTopology(
        farm.db,
        Object.values(sims).map((sim) => ({
          sim,
          sipIp: ADDR[sim.name]!,
          mediaIp: ADDR[sim.name]!,
          profiles: sim.name === 'fs03' ? ['internal'] : ['internal', 'external'],
        })),
        { reinvite_window_ms: WINDOW_MS },
      ),
    );
    await waitUp(['fs01', 'fs02', 'fs03']);
  });
  after(async () => {
    await node?.node.stop();
    await farm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function waitUp(names: string[], timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await node.farm();
      const up = s.hosts.filter((h) => names.includes(h.name) && h.state === 'up').length;
      if (up === names.length) return;
      if (Date.now() > deadline)
        throw new Error(`hosts not up: ${JSON.stringify(s.hosts.map((h) => [h.name, h.state, h.error]))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Where each live uuid is, across the simulators: a uuid on two hosts would be a call recovered twice. */
  function liveEverywhere(): Map<string, string[]> {
    const at = new Map<string, string[]>();
    for (const s of Object.values(sims))
      for (const c of s.channels()) at.set(c.uuid, [...(at.get(c.uuid) ?? []), s.name]);
    return at;
  }

  /**
   * The table holds exactly the live calls: one row per live answered leg, written by the host it lives on; and no
   * two legs of a host share an RTP port (a recovered leg binds its metadata's port even where one is bound).
   */
  async function assertTableMatchesLiveCalls(): Promise<void> {
    const rows = await admin.query<{ uuid: string; hostname: string }>('SELECT uuid, hostname FROM recovery');
    const live = liveEverywhere();
    const expected = [...live].map(([u, hs]) => `${u}@${sims[hs[0]!]!.switchname}`).sort();
    assert.deepEqual(rows.rows.map((r) => `${r.uuid}@${r.hostname}`).sort(), expected);
    assertNoSharedMediaPort();
  }

  function assertNoSharedMediaPort(): void {
    const shared = Object.values(sims).flatMap((s) =>
      s
        .channels()
        .filter((c) => c.mediaSharedWith.length > 0)
        .map((c) => `${s.name} ${c.mediaIp}:${c.mediaPort} ${c.uuid} with ${c.mediaSharedWith.join(', ')}`),
    );
    assert.deepEqual(shared, [], 'legs share an RTP port: their audio crosses');
  }

  function assertMoved(m: MigrationRecord, calls: number): void {
    const bad = m.calls.filter((c) => c.outcome !== 'moved');
    assert.deepEqual(bad, [], `not moved: ${JSON.stringify(bad)}`);
    assert.equal(m.calls.length, calls);
    assert.equal(m.phase, 'done');
  }

  it('a crashed host’s calls are all recovered on the survivors; bridges and conferences kept together; none twice', async () => {
    const fs01 = sims.fs01!;
    const pairs = [];
    for (let i = 0; i < 4; i++)
      pairs.push(
        await fs01.placeCall({ profile: 'internal', domain: 'a.test', caller: `10${i}`, callee: `20${i}` }),
      );
    const members = [];
    for (let i = 0; i < 3; i++)
      members.push(
        await fs01.placeCall({
          profile: 'internal',
          domain: 'a.test',
          caller: `30${i}`,
          callee: '3000',
          bridged: false,
          conference: 'room',
        }),
      );
    const since = Date.now();
    await fs01.crash();
    const m = await node.migrationOf('fs01', since - 1);
    assertMoved(m, 5);
    const live = liveEverywhere();
    for (const [uuid, where] of live)
      assert.equal(where.length, 1, `${uuid} lives on ${where.join(' and ')}`);
    for (const p of pairs) {
      const hosts = p.legs.map((u) => live.get(u)?.[0]);
      assert.ok(hosts[0] && hosts[0] === hosts[1], `a bridged pair split: ${hosts.join(', ')}`);
      assert.notEqual(hosts[0], 'fs01');
    }
    const confHosts = new Set(members.flatMap((c) => c.legs.map((u) => live.get(u)?.[0])));
    assert.equal(confHosts.size, 1, `conference members on ${[...confHosts].join(', ')}`);
    // Both survivors got work: the spread.
    assert.ok(new Set(m.calls.map((c) => c.target)).size >= 2);
    // The recovered legs were re-bridged and their media moved to their new host.
    for (const p of pairs)
      for (const u of p.legs) {
        const host = live.get(u)![0]!;
        const ch = sims[host]!.channels().find((c) => c.uuid === u)!;
        assert.equal(ch.mediaIp, ADDR[host]);
        assert.ok(ch.bridgedTo && p.legs.includes(ch.bridgedTo));
      }
    await assertTableMatchesLiveCalls();
    await fs01.restart();
    await waitUp(['fs01']);
  });

  it('a call migrated twice is rewritten twice, and a second failure recovers no call twice', async () => {
    const fs02 = sims.fs02!;
    const before = fs02.channels().map((c) => c.uuid);
    const call = await fs02.placeCall({
      profile: 'external',
      domain: 'b.test',
      caller: '5001',
      callee: '6001',
    });
    const since = Date.now();
    await fs02.crash();
    const m = await node.migrationOf('fs02', since - 1);
    assert.equal(m.calls.filter((c) => c.outcome === 'moved').length, m.calls.length);
    // Only fs01 runs "external": the new call went there; fs03 was not chosen for it.
    const live = liveEverywhere();
    assert.deepEqual(live.get(call.legs[0]!), ['fs01']);
    const ch = sims.fs01!.channels().find((c) => c.uuid === call.legs[0])!;
    assert.equal(ch.mediaIp, ADDR.fs01);
    assert.equal(ch.viaHost, ADDR.fs01);
    for (const u of before)
      assert.equal(live.get(u)?.length, 1, `${u} is on ${live.get(u)?.join(', ') ?? 'no host'}`);
    await assertTableMatchesLiveCalls();
    await fs02.restart();
    await waitUp(['fs02']);
  });

  it('a target whose clean-up fails leaves the source’s rows: removed once confirmed; a later failure recovers nothing twice', async () => {
    const fs03 = sims.fs03!;
    const fs02 = sims.fs02!;
    // fs02 fails its clean-up (as a real FreeSWITCH hit a deadlock there).
    fs02.failNextCleanup();
    fs03.failNextCleanup();
    const calls = [];
    for (let i = 0; i < 3; i++)
      calls.push(
        await fs03.placeCall({ profile: 'internal', domain: 'c.test', caller: `7${i}`, callee: `8${i}` }),
      );
    const since = Date.now();
    await fs03.crash();
    const m = await node.migrationOf('fs03', since - 1);
    // fs03 also carried calls earlier migrations gave it: all of them moved.
    assert.ok(m.calls.length >= 3);
    assertMoved(m, m.calls.length);
    assert.ok(m.stale_removed > 0, 'the stale rows were not reported removed');
    await assertTableMatchesLiveCalls();
    await fs03.restart();
    await waitUp(['fs03']);
    // A second host failure: fs01 dies; nothing already live elsewhere is recovered again.
    const since2 = Date.now();
    await sims.fs01!.crash();
    const m2 = await node.migrationOf('fs01', since2 - 1);
    assert.ok(
      m2.calls.every((c) => c.outcome === 'moved'),
      JSON.stringify(m2.calls),
    );
    for (const [uuid, where] of liveEverywhere())
      assert.equal(where.length, 1, `${uuid} lives on ${where.join(' and ')}`);
    await assertTableMatchesLiveCalls();
    await sims.fs01!.restart();
    await waitUp(['fs01']);
  });

  it('a peer answering the old address is reported lost with RECOVERY_ON_TIMER_EXPIRE; a paused target is not chosen', async () => {
    const fs01 = sims.fs01!;
    const lostCall = await fs01.placeCall({
      profile: 'internal',
      domain: 'd.test',
      caller: '901',
      callee: '902',
      peer: 'old-address',
    });
    const ok = await fs01.placeCall({ profile: 'internal', domain: 'd.test', caller: '903', callee: '904' });
    await node.ask('/freeswitch/hosts/fs03', 'bgapi', { command: 'fsctl pause' });
    try {
      const since = Date.now();
      await fs01.crash();
      const m = await node.migrationOf('fs01', since - 1);
      const byId = (legs: string[]) => m.calls.find((c) => c.legs.includes(legs[0]!))!;
      assert.deepEqual(
        [byId(lostCall.legs).outcome, byId(lostCall.legs).cause],
        ['lost', 'RECOVERY_ON_TIMER_EXPIRE'],
      );
      assert.equal(byId(ok.legs).outcome, 'moved');
      assert.ok(
        m.calls.every((c) => c.target === 'fs02'),
        'a paused host was chosen',
      );
      // Lost calls are not silently dropped: their rows' metadata is in the migration's file.
      assert.ok(m.failed_file);
      const saved = JSON.parse(readFileSync(m.failed_file, 'utf8')) as {
        legs: string[];
        rows: { metadata: string | null }[];
      }[];
      assert.ok(
        saved.some(
          (c) => c.legs.includes(lostCall.legs[0]!) && c.rows.every((r) => r.metadata?.includes('<cdr')),
        ),
      );
    } finally {
      // Straight to the host: its actor may be reconnecting.
      sims.fs03!.resume();
    }
    await fs01.restart();
    await waitUp(['fs01']);
  });

  it('gives each recovered leg an RTP port free on its target: none binds a port of the target’s calls or of another moved leg', async () => {
    const fs01 = sims.fs01!;
    const fs02 = sims.fs02!;
    // Both hosts hand out the same ports, as hosts with one RTP range may (the real allocator picks at random).
    fs01.setNextMediaPort(24_000);
    fs02.setNextMediaPort(24_000);
    const own: SimCall[] = [];
    for (let i = 0; i < 2; i++)
      own.push(
        await fs02.placeCall({ profile: 'internal', domain: 'p.test', caller: `61${i}`, callee: `62${i}` }),
      );
    const moving: SimCall[] = [];
    for (let i = 0; i < 3; i++)
      moving.push(
        await fs01.placeCall({ profile: 'internal', domain: 'p.test', caller: `63${i}`, callee: `64${i}` }),
      );
    const portOf = (s: SimHost, u: string): number => s.channels().find((c) => c.uuid === u)!.mediaPort;
    const ownPorts = own.flatMap((c) => c.legs.map((u) => portOf(fs02, u)));
    const before = new Map(moving.flatMap((c) => c.legs.map((u) => [u, portOf(fs01, u)] as const)));
    assert.deepEqual(ownPorts, [24_000, 24_002, 24_004, 24_006]);
    assert.deepEqual([...before.values()], [24_000, 24_002, 24_004, 24_006, 24_008, 24_010]);
    await node.ask('/freeswitch/hosts/fs03', 'bgapi', { command: 'fsctl pause' });
    try {
      const since = Date.now();
      await fs01.crash();
      const m = await node.migrationOf('fs01', since - 1);
      const ours = m.calls.filter((c) => moving.some((x) => x.legs.includes(c.legs[0]!)));
      assert.deepEqual(
        ours.map((c) => [c.outcome, c.target]),
        moving.map(() => ['moved', 'fs02']),
      );
      const after = new Map(fs02.channels().map((c) => [c.uuid, c]));
      const got = [...before.keys()].map((u) => after.get(u)!.mediaPort);
      for (const p of got) {
        assert.ok(p % 2 === 0 && p >= 16_384 && p < 32_768, `port ${p} outside FreeSWITCH's default range`);
        assert.ok(!ownPorts.includes(p), `a moved leg got ${p}, which fs02's own call holds`);
      }
      assert.equal(new Set(got).size, got.length, `two moved legs got one port: ${got.join(', ')}`);
      // A port free on the target is kept: the third call's legs did not move.
      assert.deepEqual(got.slice(4), [24_008, 24_010]);
      // fs02's own calls still get their audio; the target's rows name the new ports (the re-INVITE's SDP is made
      // from local_media_port: FINDINGS.md g).
      for (const c of own) for (const u of c.legs) assert.equal(after.get(u)!.receivesMedia, true);
      const rows = await admin.query<{ uuid: string; metadata: string }>(
        'SELECT uuid, metadata FROM recovery WHERE uuid = ANY($1::text[])',
        [[...before.keys()]],
      );
      for (const r of rows.rows)
        assert.ok(
          r.metadata.includes(`<local_media_port>${after.get(r.uuid)!.mediaPort}</local_media_port>`),
        );
      await assertTableMatchesLiveCalls();
    } finally {
      sims.fs03!.resume();
    }
    await fs01.restart();
    await waitUp(['fs01']);
  });

  it('drain moves every call of a living host, stops it without BYE, and pauses it first', async () => {
    const fs02 = sims.fs02!;
    const calls = [];
    for (let i = 0; i < 3; i++)
      calls.push(
        await fs02.placeCall({ profile: 'internal', domain: 'e.test', caller: `4${i}`, callee: `5${i}` }),
      );
    const since = Date.now();
    const { id } = (await node.ask('/freeswitch/migrator', 'drain', { host: 'fs02' })) as { id: string };
    assert.ok(id);
    const m = await node.migrationOf('fs02', since - 1);
    assertMoved(m, m.calls.length);
    for (const c of calls) for (const u of c.legs) assert.notEqual(liveEverywhere().get(u)?.[0], 'fs02');
    // No BYE: the source hung nothing up (a BYE from it would have ended the calls on their new hosts).
    const legs = new Set(calls.flatMap((c) => c.legs));
    assert.deepEqual(
      fs02.hangups().filter((h) => legs.has(h.uuid)),
      [],
    );
    assert.equal(fs02.paused, true, 'the source was not paused before it stopped');
    await assertTableMatchesLiveCalls();
    await fs02.restart();
    await waitUp(['fs02']);
  });

  it('with no usable target every call is reported failed with the reason, its rows kept and its metadata saved', async () => {
    sims.fs02!.pause();
    sims.fs03!.pause();
    try {
      const deadline = Date.now() + 5_000;
      while ((await node.farm()).hosts.filter((h) => h.paused).length < 2) {
        if (Date.now() > deadline) throw new Error('the pauses were not seen');
        await new Promise((r) => setTimeout(r, 50));
      }
      const call = await sims.fs01!.placeCall({
        profile: 'internal',
        domain: 'f.test',
        caller: '61',
        callee: '62',
      });
      const since = Date.now();
      await sims.fs01!.crash();
      const m = await node.migrationOf('fs01', since - 1);
      // fs01 also carried calls earlier tests moved to it: every one failed, with the reason.
      assert.ok(m.calls.some((c) => c.legs.includes(call.legs[0]!)));
      for (const c of m.calls) {
        assert.equal(c.outcome, 'failed');
        assert.match(c.cause ?? '', /no live, unpaused host to recover on \(fs02 paused, fs03 paused\)/);
      }
      // Nothing recovered them, so nothing deleted them: the rows stay for a later recovery.
      const rows = await admin.query<{ uuid: string }>(
        'SELECT uuid FROM recovery WHERE uuid = ANY($1::text[])',
        [call.legs],
      );
      assert.equal(rows.rowCount, 2);
      const saved = JSON.parse(readFileSync(m.failed_file!, 'utf8')) as {
        legs: string[];
        rows: { metadata: string }[];
      }[];
      assert.equal(saved.length, m.calls.length);
      const mine = saved.find((c) => c.legs.includes(call.legs[0]!));
      assert.deepEqual(mine?.legs.sort(), [...call.legs].sort());
      assert.ok(mine?.rows.every((r) => r.metadata.includes('<cdr')));
      await admin.query("DELETE FROM recovery WHERE hostname = 'freeswitch01'");
    } finally {
      sims.fs02!.resume();
      sims.fs03!.resume();
    }
    await sims.fs01!.restart();
    await waitUp(['fs01']);
  });

  it('every finished migration is kept call by call: listed, and answered after the migrator restarts', async () => {
    const s = await node.farm();
    assert.ok(s.recent.length >= 5);
    const last = s.recent.at(-1)!;
    const before = (await node.ask('/freeswitch/migrator', 'migration', { id: last.id })) as MigrationRecord;
    const r = node.node.directory.get('/freeswitch/migrator')!;
    await r.owner.restartChild(r.id);
    const after = (await node.ask('/freeswitch/migrator', 'migration', { id: last.id })) as MigrationRecord;
    assert.deepEqual(after, before);
    assert.equal((await node.farm()).recent.length, s.recent.length);
    await assert.rejects(
      node.ask('/freeswitch/migrator', 'migration', { id: '../../etc-00000000' }),
      (err) => {
        assert.equal((err as { code: string }).code, 'MW_ERR_FS_UNKNOWN_MIGRATION');
        return true;
      },
    );
  });

  it('the fencing is in place and reported clean: every host connects with its switchname, as a plain role', async () => {
    const deadline = Date.now() + 40_000;
    let s = await node.farm();
    // The check runs 2 s after the start, then every 30 s.
    while (Date.now() < deadline && s.problems.length > 0) {
      await new Promise((r) => setTimeout(r, 200));
      s = await node.farm();
    }
    assert.deepEqual(s.problems, []);
    const policies = await admin.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_policies WHERE tablename = 'recovery'",
    );
    assert.equal(policies.rows[0]?.n, '4');
  });

  it('every step was an event carrying the epoch; nothing secret in the log', () => {
    const notices = node.events.filter((e) => e.type === 'notice' && e.topic === 'freeswitch');
    assert.ok(notices.length > 10);
    assert.ok(notices.every((e) => e.type === 'notice' && typeof e.epoch === 'number' && e.epoch > 0));
    assert.ok(!node.logLines.join('\n').includes('ClueCon'));
  });
});
