import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, startTestActor, TOKENS } from '../support/api-node.ts';

/**
 * Which messages reach an actor from outside: only those its kind declares public, each with its payload schema
 * and the scope it needs (03-interfaces.md). Bad input is answered; it never crashes an actor.
 */

let n: ApiNode;
before(async () => {
  n = await startApiNode({ mutexIdleMs: 60_000 });
});
after(async () => {
  await n.stop();
});

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const ask = (path: string, body: unknown, token: string = TOKENS.admin) =>
  n.call(`/api/v1/actors${path}/messages?reply=true`, { method: 'POST', body: JSON.stringify(body), token });

async function refusal(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as ErrorBody;
  return { status: res.status, code: body.error.code, message: body.error.message };
}

/** The actor's restart count and state, as its supervisor reports them. */
async function health(path: string): Promise<{ restarts: number; state: string; lastError?: unknown }> {
  const d = (await (await n.call(`/api/v1/actors${path}`)).json()) as {
    node: { restarts: number; state: string; lastError?: unknown };
  };
  return { restarts: d.node.restarts, state: d.node.state, lastError: d.node.lastError };
}

describe('the API dispatches only an actor kind’s public messages', () => {
  const domain = '/domains/rootdomain.ru';

  for (const type of ['hasOwnProperty', 'constructor', 'toString', 'valueOf', '__proto__', 'isPrototypeOf']) {
    it(`answers "${type}" (a name every object has) 400, and the actor keeps running`, async () => {
      const before = await health(domain);
      const r = await refusal(await ask(domain, { type }));
      // A `__` type is refused by the request's own schema (internal messages); any other by the kind's table.
      const expected = type.startsWith('__') ? 'MW_ERR_BAD_REQUEST' : 'MW_ERR_UNKNOWN_MESSAGE';
      assert.deepEqual([r.status, r.code], [400, expected], r.message);
      if (expected === 'MW_ERR_UNKNOWN_MESSAGE') assert.match(r.message, /it takes: info, ping/);
      assert.deepEqual(await health(domain), before, 'no crash, no restart');
    });
  }

  it('answers a payload its kind’s schema refuses 400, naming the field, and the actor keeps running', async () => {
    const r = await refusal(await ask(domain, { type: 'info', payload: { extra: 1 } }));
    assert.deepEqual([r.status, r.code], [400, 'MW_ERR_BAD_REQUEST']);
    assert.match(r.message, /body\.payload/);
    assert.equal((await health(domain)).restarts, 0);
  });

  it('keeps the mutex actors’ lock, unlock and release-owner to the mutex facade, whatever the token', async () => {
    const granted = await n.call('/api/v1/mutex/k-dispatch/lock', {
      method: 'POST',
      body: JSON.stringify({ owner: 'holder', hold_ms: 60_000 }),
      token: TOKENS.scripts,
    });
    assert.equal(granted.status, 200);
    const { token } = (await granted.json()) as { token: number };
    for (const [type, payload] of [
      ['unlock', null],
      ['unlock', { owner: 'holder', token }],
      ['lock', { owner: 'intruder' }],
      ['release-owner', { owner: 'holder' }],
      ['reap', null],
    ] as const) {
      for (const who of [TOKENS.sendOnly, TOKENS.admin]) {
        const r = await refusal(await ask('/mutexes/k-dispatch', { type, payload }, who));
        assert.deepEqual([r.status, r.code], [400, 'MW_ERR_UNKNOWN_MESSAGE'], `${type}: ${r.message}`);
      }
    }
    const info = (await (await n.call('/api/v1/mutex/k-dispatch')).json()) as {
      holders: { owner: string }[];
    };
    assert.deepEqual(
      info.holders.map((h) => h.owner),
      ['holder'],
      'the hold is untouched',
    );
    assert.equal((await health('/mutexes/k-dispatch')).restarts, 0);
  });

  it('asks for the scope each message declares: `read` for a look, `send` for a domain’s messages', async () => {
    const look = await ask('/mutexes/k-dispatch', { type: 'inspect' }, TOKENS.reader);
    assert.equal(look.status, 200, await look.clone().text());
    const r = await refusal(await ask(domain, { type: 'info' }, TOKENS.mutexOnly));
    assert.deepEqual([r.status, r.code], [403, 'MW_ERR_FORBIDDEN']);
    assert.match(r.message, /"send" scope/);
    assert.equal((await ask(domain, { type: 'info' }, TOKENS.sendOnly)).status, 200);
  });

  it('lists an actor’s public messages and their scopes in its details', async () => {
    const d = (await (await n.call(`/api/v1/actors${domain}`)).json()) as {
      messages: { type: string; scope: string }[];
    };
    assert.deepEqual(
      d.messages.map((m) => [m.type, m.scope]),
      [
        ['info', 'send'],
        ['ping', 'send'],
      ],
    );
  });
});

describe('a told message (202) that fails later', () => {
  it('is logged at warn with its path and type, and counted by actor kind', { timeout: 20_000 }, async () => {
    const path = await startTestActor(n, 'told-test-actor');
    const res = await n.call(`/api/v1/actors${path}/messages`, {
      method: 'POST',
      body: JSON.stringify({ type: 'sleep', payload: 60_000, timeout_ms: 100 }),
    });
    assert.equal(res.status, 202);
    let line: Record<string, unknown> | undefined;
    for (const end = performance.now() + 10_000; !line && performance.now() < end;) {
      await new Promise((r) => setTimeout(r, 50));
      line = n.logLines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'a told message failed' && l.path === path);
    }
    assert.ok(line, 'a warning in the log');
    assert.deepEqual([line.level, line.type], [40, 'sleep']);
    const metrics = await (await n.call('/metrics')).text();
    assert.match(metrics, /mware_api_told_failures_total\{[^}]*kind="test-counter"[^}]*\} 1\b/);
  });
});
