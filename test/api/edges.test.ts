import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiApp } from '../../src/api/server.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';

/** What the API does at the edges of a node's life and of what it may say. */

let api: ApiNode;
before(async () => {
  api = await startApiNode();
});
after(async () => {
  await api.stop();
});

const send = (path: string, body: unknown, token: string = TOKENS.admin) =>
  api.call(`/api/v1/actors${path}/messages?reply=true`, {
    method: 'POST',
    body: JSON.stringify(body),
    token,
  });

describe('the API never lets a secret out', () => {
  it('scrubs a token an actor echoes back in its error', async () => {
    // The type is echoed in the actor's "no handler" message; a token used as a type must not come back.
    const res = await send('/domains/rootdomain.ru', { type: TOKENS.scripts });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.match(text, /MW_ERR_UNKNOWN_MESSAGE/);
    assert.ok(!text.includes(TOKENS.scripts), text);
    assert.match(text, /\[REDACTED\]/);
  });

  it('scrubs a secret from the ${env:…} reference of the topology, in responses and in its log', async () => {
    const res = await send('/domains/rootdomain.ru', { type: TOKENS.admin });
    const text = await res.text();
    assert.ok(!text.includes(TOKENS.admin), text);
    assert.ok(
      api.logLines.every((l) => !Object.values(TOKENS).some((t) => l.includes(t))),
      'no token in any log line',
    );
  });
});

describe('the API while the node is not active', () => {
  it('answers messages and mutex requests 503 MW_ERR_NOT_READY (retry), not 404, and still serves reads', async () => {
    for (const state of ['starting', 'joining', 'passive'] as const) {
      const app = createApiApp({ ctx: { ...api.node.api, state: () => state } });
      try {
        const headers = { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' };
        const msg = await app.inject({
          method: 'POST',
          url: '/api/v1/actors/domains/rootdomain.ru/messages?reply=true',
          headers,
          payload: { type: 'info' },
        });
        assert.equal(msg.statusCode, 503, `${state}: ${msg.body}`);
        assert.equal(msg.json<{ error: { code: string } }>().error.code, 'MW_ERR_NOT_READY');
        assert.equal(msg.headers['retry-after'], '1');
        const lock = await app.inject({
          method: 'POST',
          url: '/api/v1/mutex/k/lock',
          headers,
          payload: { owner: 'o' },
        });
        assert.equal(lock.statusCode, 503, `${state}: ${lock.body}`);
        const tree = await app.inject({ method: 'GET', url: '/api/v1/tree', headers });
        assert.equal(tree.statusCode, 200, `${state}: reads still work`);
      } finally {
        await app.close();
      }
    }
  });
});
