import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Dialog } from '../../actors/freeswitch/call-manager-protocol.ts';
import type { SimHost } from '../harness/esl-simulator/index.ts';
import { expectError } from '../support/api-errors.ts';
import type { FsNode, SimFarm } from '../support/fs-node.ts';
import { fsTopology, startFsNode, startSimFarm } from '../support/fs-node.ts';

/**
 * The call manager facade (`/rest/v1/uc/calls`, `/rest/v1/uc/conferences`) through the real HTTP API of an
 * in-process node whose farm is two ESL simulators, with a real PostgreSQL 15 for their `recovery` table.
 */

const ADDR: Record<string, string> = { fs01: '127.0.0.31', fs02: '127.0.0.32' };
const TOKENS = { calls: 'calls-token-0123456789abcdef', mutex: 'mutex-token-0123456789abcdef' };
const REC_DIR = '/var/spool/mware-rec';
const A = 'a.example.test';
const B = 'b.example.test';

describe('call manager facade (simulated hosts, real PostgreSQL, real HTTP)', () => {
  let farm: SimFarm;
  let dir: string;
  let node: FsNode;
  let url: string;
  const sims: Record<string, SimHost> = {};

  before(async () => {
    farm = await startSimFarm(
      'pg-fs-calls',
      Object.entries(ADDR).map(([name, ip]) => ({ name, ip })),
    );
    Object.assign(sims, farm.sims);
    dir = mkdtempSync(join(tmpdir(), 'mware-calls-'));
    const topology = await fsTopology(
      farm.db,
      Object.values(sims).map((sim) => ({
        sim,
        sipIp: ADDR[sim.name]!,
        mediaIp: ADDR[sim.name]!,
        profiles: ['internal'],
      })),
    );
    const role = (topology.roles as Record<string, unknown>[])[0]!;
    (role.freeswitch as Record<string, unknown>).call_manager = { recordings_dir: REC_DIR };
    topology.security = {
      api_tokens: [
        { name: 'cm', token: TOKENS.calls, scopes: ['calls'] },
        { name: 'locks', token: TOKENS.mutex, scopes: ['mutex'] },
      ],
    };
    url = `http://127.0.0.1:${(role.api as { port: number }).port}`;
    node = await startFsNode(dir, topology);
    await until(async () => (await node.farm()).hosts.every((h) => h.state === 'up'), 'hosts up');
  });
  after(async () => {
    await node?.node.stop();
    await farm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function until(f: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await f())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  function call(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) {
    const headers: Record<string, string> = {};
    const token = init.token === undefined ? TOKENS.calls : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  }

  async function json<T>(res: Response, status = 200): Promise<T> {
    const text = await res.text();
    assert.equal(res.status, status, text);
    return JSON.parse(text) as T;
  }

  const list = async (domain: string) =>
    (await json<{ calls: Dialog[] }>(await call(`/rest/v1/uc/calls?domain=${domain}`))).calls;

  /** A call placed on a simulator, once the farm board (and so the call manager) has seen every leg. */
  async function place(
    host: string,
    o: { domain?: string; caller?: string; callee?: string; bridged?: boolean; conference?: string } = {},
  ): Promise<string[]> {
    const c = await sims[host]!.placeCall({
      profile: 'internal',
      domain: o.domain ?? A,
      caller: o.caller ?? '1001',
      callee: o.callee ?? '1002',
      ...(o.bridged === undefined ? {} : { bridged: o.bridged }),
      ...(o.conference === undefined ? {} : { conference: o.conference }),
    });
    await until(async () => {
      const d = (await list(o.domain ?? A)).find((x) => x.id === c.legs[0]);
      return d !== undefined && (c.legs.length === 1 || d.b?.uuid === c.legs[1]);
    }, `call ${c.legs[0]} on the board`);
    return c.legs;
  }

  it('lists a domain’s calls with their A and B sides, and no other domain’s', async () => {
    const [a, b] = await place('fs01', { caller: '1001', callee: '1002' });
    const [other] = await place('fs01', { domain: B, caller: '2001', callee: '2002' });
    const calls = await list(A);
    const d = calls.find((x) => x.id === a);
    assert.ok(d, JSON.stringify(calls));
    assert.equal(d.domain, A);
    assert.equal(d.host, 'fs01');
    assert.equal(d.a.uuid, a);
    assert.equal(d.a.direction, 'inbound');
    assert.equal(d.a.number, '1001');
    assert.equal(d.a.state, 'bridged');
    assert.equal(typeof d.a.answered_at, 'number');
    assert.equal(d.b?.uuid, b);
    assert.equal(d.b?.direction, 'outbound');
    assert.equal(d.b?.number, '1002');
    assert.ok(!calls.some((x) => x.id === other));
    assert.ok((await list(B)).some((x) => x.id === other));
    // The B leg names the same call.
    const byB = await json<Dialog>(await call(`/rest/v1/uc/calls/${b}?domain=${A}`));
    assert.equal(byB.id, a);
  });

  it('originates on the least loaded live host (201 with the call id), then GET shows it', async () => {
    const res = await call('/rest/v1/uc/calls', {
      method: 'POST',
      body: { domain: A, from: '1005', to: '1006' },
    });
    const placed = await json<{ id: string; host: string; domain: string }>(res, 201);
    assert.match(placed.id, /^[0-9a-f-]{36}$/);
    // fs01 holds the calls of the test before.
    assert.equal(placed.host, 'fs02');
    assert.equal(placed.domain, A);
    await until(
      async () => (await call(`/rest/v1/uc/calls/${placed.id}?domain=${A}`)).status === 200,
      'the call',
    );
    const d = await json<Dialog>(await call(`/rest/v1/uc/calls/${placed.id}?domain=${A}`));
    assert.equal(d.a.uuid, placed.id);
    assert.equal(d.a.direction, 'outbound');
    assert.equal(d.a.number, '1005');
    assert.equal(d.a.caller, '1006', 'the caller id shown to `from` defaults to `to`');
    assert.equal(d.host, 'fs02');
    assert.ok(sims.fs02!.channels().some((c) => c.uuid === placed.id));
    // The spec's verb is accepted in the body, and a caller id given is used.
    const again = await json<{ id: string }>(
      await call('/rest/v1/uc/calls', {
        method: 'POST',
        body: { method: 'INVITE', domain: A, from: '1007', to: '1008', caller_id_number: '+74951234567' },
      }),
      201,
    );
    await until(
      async () => (await call(`/rest/v1/uc/calls/${again.id}?domain=${A}`)).status === 200,
      'the call',
    );
    const d2 = await json<Dialog>(await call(`/rest/v1/uc/calls/${again.id}?domain=${A}`));
    assert.equal(d2.a.caller, '+74951234567');
  });

  it('does not place a call on a paused host; with none taking calls, 503', async () => {
    // The pause is a background job: the host is paused once its actor has seen it (as an operator would wait).
    const pause = async (host: string) => {
      await node.ask(`/freeswitch/hosts/${host}`, 'bgapi', { command: 'fsctl pause' });
      await until(
        async () =>
          ((await node.ask(`/freeswitch/hosts/${host}`, 'status', null)) as { paused: boolean }).paused,
        `${host} seen paused`,
      );
    };
    await pause('fs02');
    try {
      const placed = await json<{ host: string }>(
        await call('/rest/v1/uc/calls', { method: 'POST', body: { domain: A, from: '1010', to: '1011' } }),
        201,
      );
      assert.equal(placed.host, 'fs01');
      await pause('fs01');
      await expectError(
        await call('/rest/v1/uc/calls', { method: 'POST', body: { domain: A, from: '1010', to: '1011' } }),
        503,
        'MW_ERR_CALL_HOST_UNAVAILABLE',
      );
    } finally {
      await node.ask('/freeswitch/hosts/fs01', 'bgapi', { command: 'fsctl resume' });
      await node.ask('/freeswitch/hosts/fs02', 'bgapi', { command: 'fsctl resume' });
    }
  });

  it('maps originate’s -ERR <CAUSE> to 502 with the cause', async () => {
    // The host refuses behind the board's back (paused in the simulator itself, before the next probe sees it).
    const simPause = (h: string, v: boolean) => ((sims[h] as unknown as { paused: boolean }).paused = v);
    simPause('fs01', true);
    simPause('fs02', true);
    try {
      const res = await call('/rest/v1/uc/calls', {
        method: 'POST',
        body: { domain: A, from: '1012', to: '1013' },
      });
      const text = await res.text();
      // The probe (every 200 ms) may have seen the pause first: then no host is chosen at all.
      if (res.status === 503) assert.match(text, /MW_ERR_CALL_HOST_UNAVAILABLE/);
      else {
        assert.equal(res.status, 502, text);
        const body = JSON.parse(text) as { error: { code: string; details?: { cause?: string } } };
        assert.equal(body.error.code, 'MW_ERR_CALL_FAILED');
        assert.equal(body.error.details?.cause, 'DESTINATION_OUT_OF_ORDER');
      }
    } finally {
      simPause('fs01', false);
      simPause('fs02', false);
    }
    await until(async () => (await node.farm()).hosts.every((h) => !h.paused), 'hosts resumed');
  });

  it('hangs up a call (uuid_kill), then answers 404 for it', async () => {
    const [a, b] = await place('fs01', { caller: '1020', callee: '1021' });
    const r = await json<{ id: string; uuid: string; reply: string }>(
      await call(`/rest/v1/uc/calls/${a}?domain=${A}`, { method: 'DELETE' }),
    );
    assert.equal(r.id, a);
    assert.equal(r.reply, '+OK');
    assert.ok(!sims.fs01!.channels().some((c) => c.uuid === a || c.uuid === b));
    await until(async () => (await call(`/rest/v1/uc/calls/${a}?domain=${A}`)).status === 404, 'gone');
    await expectError(await call(`/rest/v1/uc/calls/${a}?domain=${A}`), 404, 'MW_ERR_CALL_NOT_FOUND');
    await expectError(
      await call(`/rest/v1/uc/calls/${a}?domain=${A}`, { method: 'DELETE' }),
      404,
      'MW_ERR_CALL_NOT_FOUND',
    );
  });

  it('blind-transfers a leg (uuid_transfer), by sub-resource and by the REFER verb', async () => {
    const [a, b] = await place('fs01', { caller: '1030', callee: '1031' });
    const r = await json<{ uuid: string; reply: string; host: string }>(
      await call(`/rest/v1/uc/calls/${a}/refer`, { method: 'POST', body: { domain: A, to: '3000' } }),
    );
    assert.equal(r.uuid, a);
    assert.equal(r.reply, '+OK');
    assert.equal(r.host, 'fs01');
    // The transferred leg leaves its bridge; the other one hangs up (hangup_after_bridge).
    await until(() => sims.fs01!.hangups().some((h) => h.uuid === b), 'the B leg hung up');
    const [c] = await place('fs01', { caller: '1032', callee: '1033' });
    const v = await json<{ uuid: string; reply: string }>(
      await call(`/rest/v1/uc/calls/${c}`, {
        method: 'POST',
        body: { method: 'REFER', domain: A, to: '3001' },
      }),
    );
    assert.equal(v.uuid, c);
  });

  it('sends DTMF (uuid_send_dtmf), with a tone length and by the SEND_DTMF verb', async () => {
    const [a, b] = await place('fs01', { caller: '1040', callee: '1041' });
    const r = await json<{ reply: string; uuid: string }>(
      await call(`/rest/v1/uc/calls/${a}/dtmf`, { method: 'POST', body: { domain: A, digits: '12#*' } }),
    );
    assert.match(r.reply, /^\+OK .* sent DTMF 12#\*\.$/);
    const v = await json<{ reply: string; uuid: string }>(
      await call(`/rest/v1/uc/calls/${a}`, {
        method: 'POST',
        body: { method: 'SEND_DTMF', domain: A, digits: '9', duration_ms: 200, leg: 'b' },
      }),
    );
    assert.equal(v.uuid, b);
    assert.match(v.reply, /sent DTMF 9@200\.$/);
  });

  it('records under the domain’s folder (uuid_record start/stop) and refuses a path outside it', async () => {
    const [a] = await place('fs01', { caller: '1050', callee: '1051' });
    const start = await json<{ reply: string; path: string }>(
      await call(`/rest/v1/uc/calls/${a}/record`, {
        method: 'POST',
        body: { domain: A, action: 'start', path: '2024/call.wav', limit_s: 60 },
      }),
    );
    assert.equal(start.reply, '+OK Success');
    assert.equal(start.path, `${REC_DIR}/${A}/2024/call.wav`);
    const stop = await json<{ path: string }>(
      await call(`/rest/v1/uc/calls/${a}`, {
        method: 'POST',
        body: { method: 'SETUP_RECORD', domain: A, action: 'stop' },
      }),
    );
    assert.equal(stop.path, 'all');
    for (const path of ['../b.example.test/x.wav', '/etc/passwd', '2024/../../x.wav', './x.wav', 'a//b.wav'])
      await expectError(
        await call(`/rest/v1/uc/calls/${a}/record`, {
          method: 'POST',
          body: { domain: A, action: 'start', path },
        }),
        400,
        'MW_ERR_CALL_RECORD_PATH_REFUSED',
      );
    for (const path of ['x y.wav', 'x\nuuid_kill all', '{a=b}x.wav', 'x;.wav'])
      await expectError(
        await call(`/rest/v1/uc/calls/${a}/record`, {
          method: 'POST',
          body: { domain: A, action: 'start', path },
        }),
        400,
        'MW_ERR_BAD_REQUEST',
      );
    const e = await expectError(
      await call(`/rest/v1/uc/calls/${a}/record`, { method: 'POST', body: { domain: A, action: 'start' } }),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    assert.match(e.error.message, /body\.path/);
  });

  it('lists a domain’s conferences and their participants, and kicks one', async () => {
    const m1 = await place('fs01', { caller: '1061', callee: '3000', bridged: false, conference: 'room1' });
    const m2 = await place('fs01', { caller: '1062', callee: '3000', bridged: false, conference: 'room1' });
    await place('fs01', { domain: B, caller: '2061', callee: '3000', bridged: false, conference: 'room2' });
    const { conferences } = await json<{ conferences: { name: string; host: string; members: number }[] }>(
      await call(`/rest/v1/uc/conferences?domain=${A}`),
    );
    assert.deepEqual(
      conferences.map((c) => [c.name, c.host, c.members]),
      [['room1', 'fs01', 2]],
    );
    const p = await json<{ participants: { uuid: string; caller_number: string; member_id: number }[] }>(
      await call(`/rest/v1/uc/conferences/room1/participants?domain=${A}`),
    );
    assert.deepEqual(p.participants.map((x) => x.uuid).sort(), [m1[0], m2[0]].sort());
    assert.deepEqual(p.participants.map((x) => x.caller_number).sort(), ['1061', '1062']);
    // Another domain's conference, and one that does not exist, are both unknown.
    await expectError(
      await call(`/rest/v1/uc/conferences/room2/participants?domain=${A}`),
      404,
      'MW_ERR_CONFERENCE_NOT_FOUND',
    );
    await expectError(
      await call(`/rest/v1/uc/conferences/nope/participants?domain=${A}`),
      404,
      'MW_ERR_CONFERENCE_NOT_FOUND',
    );
    const k = await json<{ reply: string }>(
      await call(`/rest/v1/uc/conferences/room1/participants/${m1[0]}?domain=${A}`, { method: 'DELETE' }),
    );
    assert.match(k.reply, /^\+OK kicked \d+$/);
    const after = await json<{ participants: { uuid: string }[] }>(
      await call(`/rest/v1/uc/conferences/room1/participants?domain=${A}`),
    );
    assert.deepEqual(
      after.participants.map((x) => x.uuid),
      [m2[0]],
    );
    await expectError(
      await call(`/rest/v1/uc/conferences/room1/participants/${m1[0]}?domain=${A}`, { method: 'DELETE' }),
      404,
      'MW_ERR_CONFERENCE_NOT_FOUND',
    );
  });

  it('answers 400 naming the field for every invalid input, and never sends it to FreeSWITCH', async () => {
    const [a] = await place('fs01', { caller: '1070', callee: '1071' });
    const bad: [string, { method?: string; body?: unknown }, string][] = [
      ['/rest/v1/uc/calls', {}, 'query.domain'],
      ['/rest/v1/uc/calls?domain=Not_A_Domain', {}, 'query.domain'],
      ['/rest/v1/uc/calls?domain=a.example.test%0Aapi%20status', {}, 'query.domain'],
      [`/rest/v1/uc/calls/not-a-uuid?domain=${A}`, {}, 'path.id'],
      [`/rest/v1/uc/calls/${a}?domain=${A}&cause=normal%20clearing`, { method: 'DELETE' }, 'query.cause'],
      [
        '/rest/v1/uc/calls',
        { method: 'POST', body: { domain: A, from: '1001\napi status', to: '1' } },
        'body.from',
      ],
      ['/rest/v1/uc/calls', { method: 'POST', body: { domain: A, from: '1001 1002', to: '1' } }, 'body.from'],
      [
        '/rest/v1/uc/calls',
        { method: 'POST', body: { domain: A, from: '1001', to: '{x=y}1002' } },
        'body.to',
      ],
      ['/rest/v1/uc/calls', { method: 'POST', body: { domain: A, from: '1001', to: '&park()' } }, 'body.to'],
      [
        '/rest/v1/uc/calls',
        {
          method: 'POST',
          body: { domain: A, from: '1001', to: '1', caller_id_name: 'a,origination_uuid=x' },
        },
        'body.caller_id_name',
      ],
      ['/rest/v1/uc/calls', { method: 'POST', body: { domain: A, from: '1001' } }, 'body.to'],
      ['/rest/v1/uc/calls', { method: 'POST', body: { domain: A, from: '1', to: '2', x: 1 } }, 'body'],
      [`/rest/v1/uc/calls/${a}/refer`, { method: 'POST', body: { domain: A, to: '-bleg' } }, 'body.to'],
      [
        `/rest/v1/uc/calls/${a}/refer`,
        { method: 'POST', body: { domain: A, to: '1', leg: 'c' } },
        'body.leg',
      ],
      [`/rest/v1/uc/calls/${a}/dtmf`, { method: 'POST', body: { domain: A, digits: '12x' } }, 'body.digits'],
      [
        `/rest/v1/uc/calls/${a}/dtmf`,
        { method: 'POST', body: { domain: A, digits: '1', duration_ms: 5 } },
        'body.duration_ms',
      ],
      [
        `/rest/v1/uc/calls/${a}/record`,
        { method: 'POST', body: { domain: A, action: 'pause', path: 'x' } },
        'body.action',
      ],
      [`/rest/v1/uc/calls/${a}`, { method: 'POST', body: { method: 'HOLD', domain: A } }, 'body.method'],
      [`/rest/v1/uc/conferences/bad%20name/participants?domain=${A}`, {}, 'path.name'],
      [`/rest/v1/uc/conferences/room1/participants/nope?domain=${A}`, { method: 'DELETE' }, 'path.uuid'],
      ['/rest/v1/uc/conferences', {}, 'query.domain'],
    ];
    for (const [path, init, field] of bad) {
      const e = await expectError(await call(path, init), 400, 'MW_ERR_BAD_REQUEST');
      const issues = (e.error.details?.issues ?? []) as { field: string }[];
      assert.ok(
        issues.some((i) => i.field === field),
        `${init.method ?? 'GET'} ${path}: expected ${field} in ${JSON.stringify(issues)}`,
      );
    }
    // The call is untouched.
    assert.ok(sims.fs01!.channels().some((c) => c.uuid === a));
  });

  it('answers 404 for unknown ids and for another domain’s call', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const [a] = await place('fs01', { domain: B, caller: '2080', callee: '2081' });
    for (const [path, init] of [
      [`/rest/v1/uc/calls/${unknown}?domain=${A}`, {}],
      [`/rest/v1/uc/calls/${unknown}?domain=${A}`, { method: 'DELETE' }],
      [`/rest/v1/uc/calls/${unknown}/refer`, { method: 'POST', body: { domain: A, to: '1' } }],
      [`/rest/v1/uc/calls/${unknown}/dtmf`, { method: 'POST', body: { domain: A, digits: '1' } }],
      [`/rest/v1/uc/calls/${unknown}/record`, { method: 'POST', body: { domain: A, action: 'stop' } }],
      [`/rest/v1/uc/calls/${a}?domain=${A}`, {}],
      [`/rest/v1/uc/calls/${a}?domain=${A}`, { method: 'DELETE' }],
    ] as const)
      await expectError(await call(path, init), 404, 'MW_ERR_CALL_NOT_FOUND');
    assert.ok(
      sims.fs01!.channels().some((c) => c.uuid === a),
      'another domain’s call is left alone',
    );
  });

  it('needs a token with the calls scope', async () => {
    await expectError(
      await call(`/rest/v1/uc/calls?domain=${A}`, { token: null }),
      401,
      'MW_ERR_UNAUTHORIZED',
    );
    await expectError(
      await call(`/rest/v1/uc/calls?domain=${A}`, { token: TOKENS.mutex }),
      403,
      'MW_ERR_FORBIDDEN',
    );
    await expectError(
      await call('/rest/v1/uc/calls', {
        method: 'POST',
        body: { domain: A, from: '1', to: '2' },
        token: TOKENS.mutex,
      }),
      403,
      'MW_ERR_FORBIDDEN',
    );
    await expectError(
      await call(`/rest/v1/uc/conferences?domain=${A}`, { token: TOKENS.mutex }),
      403,
      'MW_ERR_FORBIDDEN',
    );
    // Through the message API too: the kind's table declares the scope.
    await expectError(
      await call('/api/v1/actors/freeswitch/calls/messages?reply=true', {
        method: 'POST',
        body: { type: 'list', payload: { domain: A } },
        token: TOKENS.mutex,
      }),
      403,
      'MW_ERR_FORBIDDEN',
    );
    const viaMessages = await json<{ result: { calls: Dialog[] } }>(
      await call('/api/v1/actors/freeswitch/calls/messages?reply=true', {
        method: 'POST',
        body: { type: 'list', payload: { domain: A } },
      }),
    );
    assert.ok(Array.isArray(viaMessages.result.calls));
  });

  it('documents the facade in the OpenAPI document', async () => {
    const doc = await json<{ paths: Record<string, Record<string, { summary: string }>> }>(
      await call('/api/v1/openapi.json'),
    );
    assert.ok(doc.paths['/rest/v1/uc/calls']?.get && doc.paths['/rest/v1/uc/calls']?.post);
    assert.ok(doc.paths['/rest/v1/uc/calls/{id}']?.get && doc.paths['/rest/v1/uc/calls/{id}']?.delete);
    assert.match(doc.paths['/rest/v1/uc/calls/{id}/refer']?.post?.summary ?? '', /REFER/);
    assert.match(doc.paths['/rest/v1/uc/calls/{id}/dtmf']?.post?.summary ?? '', /SEND_DTMF/);
    assert.match(doc.paths['/rest/v1/uc/calls/{id}/record']?.post?.summary ?? '', /SETUP_RECORD/);
    assert.ok(doc.paths['/rest/v1/uc/conferences']?.get);
    assert.ok(doc.paths['/rest/v1/uc/conferences/{name}/participants']?.get);
    assert.ok(doc.paths['/rest/v1/uc/conferences/{name}/participants/{uuid}']?.delete);
  });
});
