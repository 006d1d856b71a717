import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { requireBinary } from './binaries.ts';
import { claimPort, freePort } from './ports.ts';
import type { PgServer } from './postgres.ts';
import { postgresUser, startPostgres } from './postgres.ts';
import type { RedisServer } from './redis.ts';
import { startRedis } from './redis.ts';
import { listeningAddresses } from '../support/listening.ts';

/** The harness itself, against the real servers it starts (redis-server, PostgreSQL 15). */

function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Uid:'));
  return Number(line?.split(/\s+/)[1]);
}

describe('the harness: Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('starts a real redis-server that answers, on 127.0.0.1 only', async () => {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      assert.equal(await client.ping(), 'PONG');
      await client.set('mware:test', 'value');
      assert.equal(await client.get('mware:test'), 'value');
      assert.match(await client.info('server'), /redis_version:/);
      assert.deepEqual(listeningAddresses(redis.port), ['127.0.0.1']);
    } finally {
      client.disconnect();
    }
  });
});

describe('the harness: PostgreSQL 15', () => {
  let primary: PgServer;
  let standby: PgServer;
  before(async () => {
    primary = await startPostgres();
    standby = await startPostgres({ standbyOf: primary });
  });
  after(async () => {
    await standby?.stop();
    await primary?.stop();
  });

  it('runs PostgreSQL 15 as the unprivileged postgres user, on 127.0.0.1 only', async () => {
    const c = new pg.Client({ connectionString: primary.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      assert.ok(Number(rows[0]?.v) >= 150000 && Number(rows[0]?.v) < 160000, rows[0]?.v);
    } finally {
      await c.end();
    }
    assert.equal(uidOf(primary.process.pid as number), postgresUser().uid);
    assert.deepEqual(listeningAddresses(primary.port), ['127.0.0.1']);
  });

  it('streams what the primary commits to the standby', async () => {
    const p = new pg.Client({ connectionString: primary.url });
    const s = new pg.Client({ connectionString: standby.url });
    await Promise.all([p.connect(), s.connect()]);
    try {
      await p.query('CREATE TABLE harness_check (id int primary key, note text)');
      await p.query("INSERT INTO harness_check VALUES (1, 'replicated')");
      const { rows: rec } = await s.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      assert.equal(rec[0]?.r, true);
      let note: string | undefined;
      for (let i = 0; i < 100 && note === undefined; i++) {
        const r = await s
          .query<{ note: string }>('SELECT note FROM harness_check WHERE id = 1')
          .catch(() => ({ rows: [] as { note: string }[] }));
        note = r.rows[0]?.note;
        if (note === undefined) await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(note, 'replicated');
      const { rows: senders } = await p.query<{ state: string }>('SELECT state FROM pg_stat_replication');
      assert.deepEqual(
        senders.map((r) => r.state),
        ['streaming'],
      );
    } finally {
      await Promise.all([p.end(), s.end()]);
    }
  });

  it('lets a standby be promoted once its primary is killed, and take writes', async () => {
    await primary.kill();
    const s = new pg.Client({ connectionString: standby.url });
    await s.connect();
    try {
      await s.query('SELECT pg_promote(true, 30)');
      await s.query("INSERT INTO harness_check VALUES (2, 'after failover')");
      const { rows } = await s.query<{ n: string }>('SELECT count(*) AS n FROM harness_check');
      assert.equal(rows[0]?.n, '2');
    } finally {
      await s.end();
    }
  });
});

describe('the harness: missing programs', () => {
  it('names the Debian package to install', () => {
    assert.throws(
      () => requireBinary('redis-server', ['/nonexistent']),
      /redis-server is not installed: apt-get install -y redis-server/,
    );
    assert.throws(() => requireBinary('sshd', ['/nonexistent']), /apt-get install -y openssh-server/);
  });
});

describe('the harness: ports for servers it starts', () => {
  const ephemeral = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);

  it('hands out ports the kernel never gives an outgoing connection, each once', async () => {
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length, 'a port handed out twice');
    for (const p of ports)
      assert.ok(
        p < (ephemeral[0] ?? 32_768) || p > (ephemeral[1] ?? 60_999),
        `${p} is in the ephemeral range`,
      );
  });

  it('never gives two test processes the same port, and takes over the claim of a process that is gone', async () => {
    // Three processes claim 300 ports each and stay alive until all three have: ports are unique among the living
    // (a process that has exited gave its ports back).
    const script =
      "import { freePort } from './test/harness/ports.ts';" +
      'const ps = []; for (let i = 0; i < 300; i++) ps.push(await freePort());' +
      'console.log(JSON.stringify(ps)); process.stdin.resume(); process.stdin.on("end", () => process.exit(0));';
    const children = [0, 1, 2].map(() =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    try {
      const lists = await Promise.all(
        children.map(
          (c) =>
            new Promise<number[]>((resolve, reject) => {
              let out = '';
              c.stdout.on('data', (d: Buffer) => {
                out += d.toString();
                if (out.endsWith('\n')) resolve(JSON.parse(out) as number[]);
              });
              c.once('exit', (code) => reject(new Error(`a claimer exited early (${code})`)));
            }),
        ),
      );
      const all = lists.flat();
      assert.equal(all.length, 900);
      assert.equal(new Set(all).size, all.length, 'two living processes were given the same port');
    } finally {
      for (const c of children) c.stdin.end();
    }
    // A claim left by a process that no longer exists is taken over; one held by a living process is not. (On ports
    // this process holds, so no other test file's claim is touched.)
    const dir = join(tmpdir(), 'mware-test-ports');
    const [stale, held] = [await freePort(), await freePort()];
    writeFileSync(join(dir, String(stale)), '999999999');
    writeFileSync(join(dir, String(held)), String(process.ppid));
    try {
      assert.equal(claimPort(stale), true);
      assert.equal(readFileSync(join(dir, String(stale)), 'utf8'), String(process.pid));
      assert.equal(claimPort(held), false);
    } finally {
      writeFileSync(join(dir, String(held)), String(process.pid));
    }
  });
});
