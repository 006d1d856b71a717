import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MwareClient } from '../../src/client/client.ts';
import { CLUSTER_ENV, clusterTopology } from '../harness/cluster.ts';
import { ClusterNodes } from '../harness/cluster-nodes.ts';
import { startRedis } from '../harness/redis.ts';

/**
 * Mutex contention from script clients on both nodes of a group while the group fails over (SIGKILL of its
 * active): the holders are in Redis (transactional), so whoever holds a key keeps it across the takeover; no two
 * clients ever hold a key at once, and a key's fencing tokens only grow.
 */

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Grant {
  key: string;
  owner: string;
  token: number;
  grantedAt: number;
  /** When the holder sent its unlock (Infinity: never released). */
  releasedAt: number;
  afterKill: boolean;
}

const KEYS = ['mf-0', 'mf-1', 'mf-2'];
const CLIENTS = 6;
const HOLD_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mutex contention across a failover', { timeout: 180_000 }, () => {
  it('never has two holders of a key, and tokens only grow, while the owning group’s active is killed', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const c = await clusterTopology({ redisUrl: redis.url, groups: [{ group: 9, members: 2 }] });
    const nodes = new ClusterNodes(c);
    cleanups.push(() => nodes.stop());
    for (const m of c.members) nodes.start(m.name);
    const { active, passive: others } = await nodes.settled(9);
    const passive = others[0] ?? '';

    // Half the clients start on the active node, half on the passive one (which forwards); each knows both.
    const urls = [c.url(active), c.url(passive)];
    const grants: Grant[] = [];
    const problems: string[] = [];
    const lockErrors = new Set<string>();
    let killed = false;
    let stop = false;
    const client = async (i: number) => {
      const mw = new MwareClient({
        url: i % 2 === 0 ? urls : [...urls].reverse(),
        token: CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN,
        timeoutMs: 8_000,
      });
      const owner = `client-${i}`;
      for (let n = 0; !stop; n++) {
        const key = KEYS[(i + n) % KEYS.length] as string;
        // A lock caught by the kill fails with a clear error (one of ours, with its code), or succeeds after it.
        const r = await mw.mutex
          .lock(key, { owner, wait_ms: 2_000, hold_ms: 60_000 })
          .catch((e: Error & { code?: unknown }) => {
            if (typeof e.code !== 'string' || !e.code.startsWith('MW_ERR_'))
              problems.push(`${owner}: a lock failed without a code: ${String(e)}`);
            else lockErrors.add(e.code);
            return undefined;
          });
        if (!r?.granted) continue;
        const g: Grant = {
          key,
          owner,
          token: r.token,
          grantedAt: performance.now(),
          releasedAt: Infinity,
          afterKill: killed,
        };
        grants.push(g);
        // Held a while, so that a hold lost in the failover would show as two holders at once.
        await sleep(HOLD_MS);
        // A script that holds a lock releases it: an unlock lost with a dying node is sent again. If the lost one
        // was carried out before the node died, the next finds the hold gone (stale): released all the same.
        g.releasedAt = performance.now();
        let lost = false;
        for (const end = Date.now() + 10_000; ; await sleep(100)) {
          const err = await mw.mutex.unlock(key, { owner, token: r.token }).then(
            () => undefined,
            (e: Error & { code?: string }) => e,
          );
          if (!err) break;
          if (err.code === 'MW_ERR_MUTEX_STALE_TOKEN' && lost) break;
          if (err.code === 'MW_ERR_MUTEX_STALE_TOKEN' || Date.now() > end) {
            problems.push(`${owner} could not release ${key}#${r.token}: ${err.code ?? err.message}`);
            break;
          }
          // Any failure that reached the caller (the SDK already retried what certainly did not arrive) may have
          // been carried out: the channel lost (MW_ERR_REQUEST_FAILED), the forwarding node's peer lost
          // (MW_ERR_PEER_LOST), a deadline.
          lost = true;
        }
      }
      mw.close();
    };
    const running = Array.from({ length: CLIENTS }, (_, i) => client(i));
    await sleep(3_000);
    killed = true;
    const killedAt = performance.now();
    nodes.node(active).process.signal('SIGKILL');
    await sleep(4_000);
    stop = true;
    await Promise.all(running);

    assert.deepEqual(problems, []);
    const before = grants.filter((g) => !g.afterKill);
    const after = grants.filter((g) => g.afterKill);
    assert.ok(before.length > 10, `grants before the kill: ${before.length}`);
    // Fewer after: a lock granted as the node died, its answer lost, keeps its key until its hold ends (60 s).
    assert.ok(after.length > 0, `grants after the kill: ${after.length}`);
    for (const key of KEYS) {
      const ofKey = grants.filter((g) => g.key === key).sort((a, b) => a.token - b.token);
      assert.equal(new Set(ofKey.map((g) => g.token)).size, ofKey.length, `${key}: a token granted twice`);
      for (let j = 1; j < ofKey.length; j++) {
        const prev = ofKey[j - 1] as Grant;
        const next = ofKey[j] as Grant;
        // The next holder can only have been granted once the previous one had sent its release.
        assert.ok(
          next.grantedAt >= prev.releasedAt,
          `${key}: ${next.owner} held #${next.token} while ${prev.owner} still held #${prev.token}`,
        );
      }
      // In the order clients saw them granted, tokens grow.
      const seen = grants.filter((g) => g.key === key).sort((a, b) => a.grantedAt - b.grantedAt);
      for (let j = 1; j < seen.length; j++)
        assert.ok((seen[j] as Grant).token > (seen[j - 1] as Grant).token, `${key}: tokens went backwards`);
    }
    // Granted by the new active (a second after the kill): above every token of the old one, whatever the key.
    const lastBefore = Math.max(...before.map((g) => g.token));
    const byNew = after.filter((g) => g.grantedAt > killedAt + 1_000);
    assert.ok(
      byNew.length > 0 && byNew.every((g) => g.token > lastBefore),
      'tokens of the new epoch are higher',
    );
    process.stdout.write(
      `# mutex failover: ${before.length} grants before the kill, ${after.length} after; lock errors: ${[...lockErrors].join(', ') || 'none'}\n`,
    );
  });
});
