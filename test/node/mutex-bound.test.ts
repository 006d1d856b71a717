import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';

/**
 * The live mutex keys of a node are bounded (`mutex.max_keys`): near the bound idle keys are freed at once, at the
 * bound a lock on a new key is answered 503 with a stable code, and the metrics show it.
 */

const MAX = 50;
let n: ApiNode;
before(async () => {
  n = await startApiNode({ role: { mutex: { max_keys: MAX, idle_ms: 600_000 } } });
});
after(async () => {
  await n.stop();
});

const call = (path: string, body: unknown) =>
  n.call(path, { method: 'POST', body: JSON.stringify(body), token: TOKENS.scripts });
const lock = (key: string, body: Record<string, unknown> = {}) =>
  call(`/api/v1/mutex/${key}/lock`, { owner: 'o', ...body });
const liveKeys = async () => ((await (await n.call('/api/v1/mutex')).json()) as { keys: string[] }).keys;

describe('a node’s live mutex keys', () => {
  it('frees idle, unheld keys at once near the bound, so far more keys than the bound can be used in turn', async () => {
    for (let i = 0; i < 4 * MAX; i++) {
      const res = await lock(`turn-${i}`);
      assert.equal(res.status, 200, await res.clone().text());
      const { token } = (await res.json()) as { token: number };
      assert.equal((await call(`/api/v1/mutex/turn-${i}/unlock`, { owner: 'o', token })).status, 200);
    }
    assert.ok((await liveKeys()).length <= MAX, `${(await liveKeys()).length} live keys`);
  });

  it('answers a lock on a new key 503 MW_ERR_SUPERVISOR_FULL when every live key is held, and counts it', async () => {
    const tokens: number[] = [];
    // Idle keys go first; then the bound is reached with keys that are all held.
    for (let i = 0; i < MAX; i++) {
      const res = await lock(`held-${i}`, { hold_ms: 600_000 });
      assert.equal(res.status, 200, `held-${i}: ${await res.clone().text()}`);
      tokens.push(((await res.json()) as { token: number }).token);
    }
    const refused = await lock('one-too-many');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.deepEqual([refused.status, body.error.code], [503, 'MW_ERR_SUPERVISOR_FULL'], body.error.message);
    assert.equal(refused.headers.get('retry-after'), '1');
    const metrics = await (await n.call('/metrics')).text();
    assert.match(metrics, /mware_supervisor_max_children\{[^}]*kind="mutex-supervisor"[^}]*\} 50\b/);
    assert.match(metrics, /mware_supervisor_children\{[^}]*kind="mutex-supervisor"[^}]*\} 50\b/);
    assert.match(metrics, /mware_supervisor_full_refusals_total\{[^}]*kind="mutex-supervisor"[^}]*\} [1-9]/);
    // A held key still answers; once one is released, a new key fits again.
    assert.equal((await lock('held-0', { wait_ms: 0 })).status, 408);
    assert.equal((await call('/api/v1/mutex/held-0/unlock', { owner: 'o', token: tokens[0] })).status, 200);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await lock('one-too-many')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 200);
  });
});
