import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FarmStatus, MigrationRecord, MigrationSummary } from '../../actors/freeswitch/protocol.ts';
import { expectError } from '../support/api-errors.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import { channel, FarmScript, hostStatus, startFsStandIn } from '../support/fs-stand-in.ts';

/**
 * The FreeSWITCH farm's facade through real HTTP, against a real node whose `/freeswitch` is a stand-in farm
 * (test/support/fs-stand-in.ts: the real kinds' messages and scopes, scripted answers), and a node without a farm.
 */

let n: ApiNode;
let bare: ApiNode;
let script: FarmScript;

before(async () => {
  [n, bare] = await Promise.all([startApiNode(), startApiNode()]);
  script = new FarmScript([
    hostStatus('fs01', { channels: 3, sessions: 2 }),
    hostStatus('fs02', { paused: true }),
    hostStatus('fs03', { state: 'down', error: 'ESL connection refused' }),
  ]);
  const fs01 = script.hosts.get('fs01');
  if (fs01)
    fs01.channels = [
      channel('a-1', { partner: 'a-2' }),
      channel('a-2', { direction: 'outbound', partner: 'a-1', caller: '2002', callee: '1001' }),
      channel('c-1', { conference: 'room-1' }),
    ];
  const fs03 = script.hosts.get('fs03');
  if (fs03) fs03.channels = 'crash';
  await startFsStandIn(n, script);
});

after(async () => {
  await n?.stop();
  await bare?.stop();
});

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

const post = (path: string, body: unknown, token: string = TOKENS.admin) =>
  n.call(path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body), token });

describe('GET /api/v1/freeswitch', () => {
  it('answers the farm: every host with its state, channels, sessions and pause, and no migration yet', async () => {
    const s = await json<FarmStatus>(await n.call('/api/v1/freeswitch', { token: TOKENS.reader }));
    assert.deepEqual(
      s.hosts.map((h) => [h.name, h.state, h.channels, h.sessions, h.paused]),
      [
        ['fs01', 'up', 3, 2, false],
        ['fs02', 'up', 0, 0, true],
        ['fs03', 'down', 0, 0, false],
      ],
    );
    assert.equal(s.active, null);
    assert.deepEqual(s.recent, []);
    assert.equal(s.epoch, 7);
  });

  it('needs a token, any token reads, and a role without a farm answers 404 MW_ERR_FS_NOT_CONFIGURED', async () => {
    await expectError(await n.call('/api/v1/freeswitch', { token: null }), 401, 'MW_ERR_UNAUTHORIZED');
    await json(await n.call('/api/v1/freeswitch', { token: TOKENS.sendOnly }));
    for (const path of [
      '/api/v1/freeswitch',
      '/api/v1/freeswitch/calls',
      '/api/v1/freeswitch/migrations',
      '/api/v1/freeswitch/migrations/x',
      // The call manager too, at once (not after an ask's deadline).
      '/rest/v1/uc/calls?domain=a.test',
      '/rest/v1/uc/conferences?domain=a.test',
    ])
      await expectError(await bare.call(path), 404, 'MW_ERR_FS_NOT_CONFIGURED');
    await expectError(
      await bare.call('/api/v1/freeswitch/hosts/fs01/drain', { method: 'POST', body: '{}' }),
      404,
      'MW_ERR_FS_NOT_CONFIGURED',
    );
  });
});

describe('GET /api/v1/freeswitch/calls', () => {
  it('lists each host’s channels; a host whose actor does not answer is listed with its error', async () => {
    const body = await json<{
      hosts: { host: string; channels: { uuid: string; partner: string | null }[] | null; error: unknown }[];
    }>(await n.call('/api/v1/freeswitch/calls', { token: TOKENS.reader }));
    assert.deepEqual(
      body.hosts.map((h) => h.host),
      ['fs01', 'fs02', 'fs03'],
    );
    const [fs01, fs02, fs03] = body.hosts;
    assert.deepEqual(
      fs01?.channels?.map((c) => [c.uuid, c.partner]),
      [
        ['a-1', 'a-2'],
        ['a-2', 'a-1'],
        ['c-1', null],
      ],
    );
    assert.equal(fs01?.error, null);
    assert.deepEqual(fs02?.channels, []);
    assert.equal(fs03?.channels, null);
    assert.deepEqual(Object.keys(fs03?.error as object).sort(), ['code', 'message']);
    assert.equal((fs03?.error as { code: string }).code, 'MW_ERR_ACTOR_CRASHED');
  });

  it('narrows to one host with ?host=, 404 MW_ERR_FS_UNKNOWN_HOST naming the known ones, 400 on another query', async () => {
    const one = await json<{ hosts: { host: string }[] }>(await n.call('/api/v1/freeswitch/calls?host=fs02'));
    assert.deepEqual(
      one.hosts.map((h) => h.host),
      ['fs02'],
    );
    const e = await expectError(
      await n.call('/api/v1/freeswitch/calls?host=fs09'),
      404,
      'MW_ERR_FS_UNKNOWN_HOST',
    );
    assert.deepEqual(e.error.details?.known, ['fs01', 'fs02', 'fs03']);
    assert.match(e.error.message, /fs09.*known: fs01, fs02, fs03/);
    await expectError(await n.call('/api/v1/freeswitch/calls?hots=fs01'), 400, 'MW_ERR_BAD_REQUEST');
  });
});

describe('POST /api/v1/freeswitch/hosts/{host}/migrate and drain', () => {
  it('are for admin tokens only, check their body, and 404 an unknown host or target', async () => {
    await expectError(
      await post('/api/v1/freeswitch/hosts/fs01/migrate', {}, TOKENS.scripts),
      403,
      'MW_ERR_FORBIDDEN',
    );
    await expectError(
      await post('/api/v1/freeswitch/hosts/fs01/drain', {}, TOKENS.reader),
      403,
      'MW_ERR_FORBIDDEN',
    );
    const bad = await expectError(
      await post('/api/v1/freeswitch/hosts/fs01/migrate', { to: 'fs02' }),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    assert.match(bad.error.message, /body\.to/);
    await expectError(
      await post('/api/v1/freeswitch/hosts/fs01/migrate', { to: ['fs02'], now: true }),
      400,
      'MW_ERR_BAD_REQUEST',
    );
    const unknown = await expectError(
      await post('/api/v1/freeswitch/hosts/fs07/drain', {}),
      404,
      'MW_ERR_FS_UNKNOWN_HOST',
    );
    assert.deepEqual(unknown.error.details?.known, ['fs01', 'fs02', 'fs03']);
    await expectError(
      await post('/api/v1/freeswitch/hosts/fs01/migrate', { to: ['fs02', 'fs08'] }),
      404,
      'MW_ERR_FS_UNKNOWN_HOST',
    );
    assert.deepEqual(script.requests, [], 'nothing refused reached the migrator');
  });

  it('migrate answers the migration’s id, passes the targets, and the record follows it call by call', async () => {
    const { id } = await json<{ id: string }>(
      await post('/api/v1/freeswitch/hosts/fs01/migrate', { to: ['fs02'] }),
    );
    assert.equal(id, 'm1-fs01');
    assert.deepEqual(script.requests.at(-1), { kind: 'migrate', host: 'fs01', to: ['fs02'] });
    // A second one of the same host while the first runs: the migrator's refusal, 409.
    const refused = await expectError(
      await post('/api/v1/freeswitch/hosts/fs01/migrate', {}),
      409,
      'MW_ERR_FS_MIGRATION_REFUSED',
    );
    assert.match(refused.error.message, /already under way/);

    const list = await json<{ active: MigrationSummary | null; recent: MigrationSummary[] }>(
      await n.call('/api/v1/freeswitch/migrations', { token: TOKENS.reader }),
    );
    assert.equal(list.active?.id, id);
    assert.equal(list.active?.calls, 3);
    assert.deepEqual(list.recent, []);

    const phases: string[] = [];
    let r: MigrationRecord;
    do {
      r = await json<MigrationRecord>(
        await n.call(`/api/v1/freeswitch/migrations/${id}`, { token: TOKENS.reader }),
      );
      phases.push(r.phase);
    } while (r.phase !== 'done' && phases.length < 20);
    assert.deepEqual(phases, ['handing-over', 'recovering', 'confirming', 'done']);
    assert.deepEqual(
      r.calls.map((c) => [c.id, c.target, c.outcome, c.cause]),
      [
        ['call-a', 'fs02', 'moved', null],
        ['call-b', 'fs02', 'moved', null],
        ['call-c', 'fs02', 'lost', 'RECOVERY_ON_TIMER_EXPIRE'],
      ],
    );
    const after = await json<{ active: MigrationSummary | null; recent: MigrationSummary[] }>(
      await n.call('/api/v1/freeswitch/migrations'),
    );
    assert.equal(after.active, null);
    assert.deepEqual(
      after.recent.map((m) => [m.id, m.kind, m.phase, m.calls, m.moved, m.lost, m.failed]),
      [[id, 'migrate', 'done', 3, 2, 1, 0]],
    );
  });

  it('drain takes no body at all, or an empty one', async () => {
    const { id } = await json<{ id: string }>(await post('/api/v1/freeswitch/hosts/fs02/drain', undefined));
    assert.match(id, /-fs02$/);
    assert.deepEqual(script.requests.at(-1), { kind: 'drain', host: 'fs02', to: [] });
  });

  it('answers 404 MW_ERR_FS_UNKNOWN_MIGRATION for an id not kept', async () => {
    await expectError(await n.call('/api/v1/freeswitch/migrations/nope'), 404, 'MW_ERR_FS_UNKNOWN_MIGRATION');
  });
});

describe('the farm in the OpenAPI document and on /metrics', () => {
  it('documents every farm route with its schemas', async () => {
    const doc = (await (await n.call('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const [path, method] of [
      ['/api/v1/freeswitch', 'get'],
      ['/api/v1/freeswitch/calls', 'get'],
      ['/api/v1/freeswitch/hosts/{host}/migrate', 'post'],
      ['/api/v1/freeswitch/hosts/{host}/drain', 'post'],
      ['/api/v1/freeswitch/migrations', 'get'],
      ['/api/v1/freeswitch/migrations/{id}', 'get'],
    ] as const)
      assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
    assert.ok(doc.paths['/api/v1/freeswitch/hosts/{host}/migrate']?.post?.requestBody);
    for (const id of [
      'FsFarmStatus',
      'FsHostStatus',
      'FsChannel',
      'FsMigrationRecord',
      'FsMigrationSummary',
      'FsCalls',
    ])
      assert.ok(doc.components.schemas[id], id);
  });

  it('has a series per host from the migrator, and none on a node without a farm', async () => {
    const text = await (await n.call('/metrics')).text();
    assert.match(text, /^mware_fs_host_up\{host="fs01",node="mware1"\} 1$/m);
    assert.match(text, /^mware_fs_host_up\{host="fs03",node="mware1"\} 0$/m);
    assert.match(text, /^mware_fs_channels\{host="fs01",node="mware1"\} 3$/m);
    assert.match(text, /^mware_fs_paused\{host="fs02",node="mware1"\} 1$/m);
    assert.match(text, /^mware_fs_migrations_total\{kind="migrate",phase="done",node="mware1"\} 1$/m);
    const none = await (await bare.call('/metrics')).text();
    assert.doesNotMatch(none, /^mware_fs_\w+\{/m);
  });
});
