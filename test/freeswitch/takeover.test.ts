import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { FarmStatus, MigrationRecord } from '../../actors/freeswitch/protocol.ts';
import { RecoveryTable } from '../../src/freeswitch/recovery-table.ts';
import { clusterTopology } from '../harness/cluster.ts';
import { ClusterNodes } from '../harness/cluster-nodes.ts';
import { startEslSimulator } from '../harness/esl-simulator/index.ts';
import type { SimHost } from '../harness/esl-simulator/index.ts';
import { startPostgres } from '../harness/postgres.ts';
import { startRedis } from '../harness/redis.ts';

/**
 * The controlling group fails over in the middle of a migration: two mware nodes (real processes, real Redis,
 * transactional state) share one group whose `freeswitch` farm is three simulated hosts on a real PostgreSQL. The
 * source host crashes; while the targets' `fsctl recover` runs, the active node is SIGKILLed. The new active resumes
 * the saved migration under its own epoch and finishes it: every call moved, none recovered twice.
 */

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const ADDR: Record<string, string> = { fs01: '127.0.0.21', fs02: '127.0.0.22', fs03: '127.0.0.23' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a migration across a takeover of the controlling group', { timeout: 180_000 }, () => {
  it('is resumed by the new active instance and finished: every call moved, none recovered twice', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const server = await startPostgres({ name: 'pg-fs-takeover' });
    cleanups.push(() => server.stop());
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query('CREATE ROLE fs LOGIN');
    await new RecoveryTable(admin).install();
    const sims: Record<string, SimHost> = {};
    for (const [name, ip] of Object.entries(ADDR)) {
      sims[name] = await startEslSimulator({
        name,
        switchname: `freeswitch${name.slice(2)}`,
        addresses: [ip],
        sipIp: ip,
        mediaIp: ip,
        profiles: ['internal'],
        db: { connectionString: `postgres://fs@${server.host}:${server.port}/postgres` },
        // Slow enough that the kill lands while the targets are recovering (40 calls: 80 legs, ~1.6 s a target).
        recoverMsPerLeg: 40,
        reinviteWindowMs: 1_000,
      });
      cleanups.push(() => sims[name]!.stop());
    }
    const c = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 1, members: 2 }] });
    for (const role of c.topology['roles'] as Record<string, unknown>[])
      role['freeswitch'] = {
        recovery_db: { host: server.host, port: server.port, database: 'postgres', user: 'postgres' },
        failover: { confirm_ms: 500, reinvite_window_ms: 1_000 },
        probe_ms: 200,
        hosts: Object.values(sims).map((s) => ({
          name: s.name,
          esl_host: '127.0.0.1',
          esl_port: s.eslPort,
          esl_password: 'ClueCon',
          switchname: s.switchname,
          sip_ip: ADDR[s.name],
          media_ip: ADDR[s.name],
          profiles: ['internal'],
        })),
      };
    const nodes = new ClusterNodes(c);
    cleanups.push(() => nodes.stop());
    for (const m of c.members) nodes.start(m.name);
    const { active, passive } = await nodes.settled(1);
    const farm = async (name: string): Promise<FarmStatus> =>
      (await nodes.get(name, '/api/v1/freeswitch')).body as unknown as FarmStatus;
    await nodes.until('every host up on the active', async () =>
      (await farm(active)).hosts.every((h) => h.state === 'up'),
    );

    const calls = await sims.fs01!.placeCalls(40, {
      profile: 'internal',
      domain: 't.test',
      caller: '100',
      callee: '200',
    });
    await sims.fs01!.idle();
    const crashedAt = Date.now();
    await sims.fs01!.crash();
    let before: MigrationRecord | null = null;
    await nodes.until(
      'the migration is recovering on the active',
      async () => {
        before = (await farm(active)).active;
        return before?.phase === 'recovering' && before.recoveries.some((r) => r.sent);
      },
      20_000,
    );
    nodes.node(active).process.signal('SIGKILL');
    const survivor = passive[0]!;
    await nodes.until(
      'the passive node took over',
      async () => nodes.activeAt(survivor).catch(() => false),
      30_000,
    );

    let done: MigrationRecord | undefined;
    await nodes.until(
      'the migration finished on the new active',
      async () => {
        const f = await farm(survivor);
        const s = f.recent.find((m) => m.source === 'fs01' && m.started_at >= crashedAt - 1_000);
        if (!s) return false;
        done = (await nodes.get(survivor, `/api/v1/freeswitch/migrations/${s.id}`))
          .body as unknown as MigrationRecord;
        return true;
      },
      60_000,
    );
    const m = done!;
    assert.equal(m.id, before!.id, 'a new migration was started instead of the saved one being resumed');
    assert.ok(m.epoch > before!.epoch, `finished under epoch ${m.epoch}, begun under ${before!.epoch}`);
    assert.equal(m.calls.length, 40);
    assert.deepEqual(
      m.calls.filter((x) => x.outcome !== 'moved'),
      [],
    );
    // None twice: every leg lives on exactly one host, and the table holds exactly the live legs.
    const where = new Map<string, string[]>();
    for (const s of Object.values(sims))
      for (const ch of s.channels()) where.set(ch.uuid, [...(where.get(ch.uuid) ?? []), s.name]);
    for (const call of calls)
      for (const u of call.legs)
        assert.equal(where.get(u)?.length, 1, `${u} on ${where.get(u)?.join(', ') ?? 'no host'}`);
    await sleep(200);
    const rows = await admin.query<{ uuid: string; hostname: string }>('SELECT uuid, hostname FROM recovery');
    assert.deepEqual(
      rows.rows.map((r) => `${r.uuid}@${r.hostname}`).sort(),
      [...where].map(([u, hs]) => `${u}@${sims[hs[0]!]!.switchname}`).sort(),
    );
  });
});
