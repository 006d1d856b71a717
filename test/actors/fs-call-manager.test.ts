import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callManagerActor } from '../../actors/freeswitch/call-manager.ts';
import {
  eslLine,
  originateCommand,
  originateResult,
  parseConferenceList,
  parseMembers,
  recordingPath,
  uuidResult,
  varBlock,
} from '../../actors/freeswitch/call-manager-esl.ts';
import type { FsCallsProtocol } from '../../actors/freeswitch/call-manager-protocol.ts';
import { FsFarm } from '../../actors/freeswitch/farm.ts';
import type { FsChannel, FsHostStatus } from '../../actors/freeswitch/protocol.ts';
import type { Behavior } from '../../src/actor-system/kind.ts';
import { errorResponse } from '../../src/api/errors.ts';
import { EslTimeout } from '../../src/freeswitch/esl/errors.ts';

/** The call manager's ESL commands and replies, and its actor over a farm board with no real host behind it. */

const UUID = '5d0f1e7e-4c1b-4a53-9d3e-0c3c1f1a2b3c';

/** The error a function throws, as the API would answer it. */
function answered(f: () => unknown): { status: number; code: string; details?: Record<string, unknown> } {
  try {
    f();
  } catch (err) {
    const { status, body } = errorResponse(err);
    return { status, code: body.error.code, ...(body.error.details ? { details: body.error.details } : {}) };
  }
  throw new Error('did not throw');
}

describe('call manager ESL commands', () => {
  it('builds originate as one line with its own variable block', () => {
    assert.equal(
      originateCommand({
        uuid: UUID,
        from: '1001',
        to: '1002',
        domain: 'a.test',
        context: 'a.test',
        callerIdNumber: '1002',
        callerIdName: 'Desk',
        timeoutS: 30,
      }),
      `originate {origination_uuid=${UUID},origination_caller_id_number=1002,origination_caller_id_name=Desk,` +
        'originate_timeout=30,domain_name=a.test}user/1001@a.test 1002 XML a.test',
    );
  });

  it('refuses a word with a blank, a line break or a brace, and a variable value with a comma', () => {
    for (const w of ['a b', 'a\nb', 'a\r', '{x}', '', 'a\tb'])
      assert.throws(() => eslLine('uuid_kill', w), /refusing an ESL word/);
    for (const v of ['a,b', 'a}b', "a'b", 'a b', ''])
      assert.throws(() => varBlock({ origination_caller_id_name: v }), /refusing a channel variable/);
  });

  it('maps originate replies: +OK uuid, a far-end cause to 409, any other to 502, with the cause', () => {
    assert.equal(originateResult(`+OK ${UUID}\n`, 'fs01'), UUID);
    assert.deepEqual(
      answered(() => originateResult('-ERR USER_BUSY\n', 'fs01')),
      { status: 409, code: 'MW_ERR_CALL_REFUSED', details: { cause: 'USER_BUSY', host: 'fs01' } },
    );
    assert.deepEqual(
      answered(() => originateResult('-ERR NORMAL_TEMPORARY_FAILURE\n', 'fs01')),
      {
        status: 502,
        code: 'MW_ERR_CALL_FAILED',
        details: { cause: 'NORMAL_TEMPORARY_FAILURE', host: 'fs01' },
      },
    );
    assert.deepEqual(
      answered(() => originateResult('-USAGE: <call url> …\n', 'fs01')),
      { status: 502, code: 'MW_ERR_CALL_FAILED', details: { cause: 'UNKNOWN', host: 'fs01' } },
    );
  });

  it('maps uuid_* replies: +OK, the unknown-channel words to 404, the rest to 502', () => {
    assert.equal(uuidResult('+OK\n', UUID, 'fs01'), '+OK');
    assert.equal(answered(() => uuidResult('-ERR No such channel!\n', UUID, 'fs01')).status, 404);
    assert.equal(
      answered(() => uuidResult('-ERR Cannot locate session!\n', UUID, 'fs01')).code,
      'MW_ERR_CALL_NOT_FOUND',
    );
    assert.deepEqual(
      answered(() => uuidResult('-ERR Operation failed\n', UUID, 'fs01')),
      {
        status: 502,
        code: 'MW_ERR_CALL_FAILED',
        details: { host: 'fs01', cause: 'UNKNOWN', reply: '-ERR Operation failed' },
      },
    );
  });

  it('keeps a recording inside <dir>/<domain>/', () => {
    assert.equal(recordingPath('/rec', 'a.test', '2024/x.wav'), '/rec/a.test/2024/x.wav');
    for (const bad of ['/etc/passwd', '../b.test/x.wav', 'x/../../y.wav', './x.wav', 'x//y.wav', 'x/', '..'])
      assert.equal(
        answered(() => recordingPath('/rec', 'a.test', bad)).code,
        'MW_ERR_CALL_RECORD_PATH_REFUSED',
        bad,
      );
  });

  it('reads conference list and conference NAME list as mod_conference writes them', () => {
    const list =
      '+OK Conference room1 (2 members rate: 8000 flags: running|answered|dynamic)\n' +
      `2;sofia/internal/1002@a.test;${UUID};Bob;1002;hear|speak;0;0;300\n` +
      '1;sofia/internal/1001@a.test;11111111-1111-4111-8111-111111111111;Ann;1001;hear|speak|talking;0;0;300\n' +
      '+OK Conference room2 (1 member rate: 16000 flags: running)\n' +
      '1;sofia/internal/2001@b.test;22222222-2222-4222-8222-222222222222;Cy;2001;hear;0;0;300\n';
    assert.deepEqual(parseConferenceList(list, 'fs01'), [
      {
        name: 'room1',
        host: 'fs01',
        members: 2,
        flags: ['running', 'answered', 'dynamic'],
        uuids: [UUID, '11111111-1111-4111-8111-111111111111'],
      },
      {
        name: 'room2',
        host: 'fs01',
        members: 1,
        flags: ['running'],
        uuids: ['22222222-2222-4222-8222-222222222222'],
      },
    ]);
    assert.deepEqual(parseConferenceList('+OK No active conferences.\n', 'fs01'), []);
    assert.deepEqual(parseMembers(list.split('\n').slice(1, 2).join('\n'), 'fs02'), [
      {
        member_id: 2,
        uuid: UUID,
        caller_name: 'Bob',
        caller_number: '1002',
        flags: ['hear', 'speak'],
        host: 'fs02',
      },
    ]);
    assert.equal(parseMembers('-ERR Conference nope not found\n', 'fs01'), null);
  });
});

describe('call manager actor', () => {
  function farmWith(channel: Partial<FsChannel>): FsFarm {
    const farm = new FsFarm(['fs01']);
    const status = {
      name: 'fs01',
      state: 'up',
      paused: false,
      sessions: 1,
      max_sessions: 100,
    } as FsHostStatus;
    const c: FsChannel = {
      uuid: UUID,
      direction: 'inbound',
      state: 'CS_EXECUTE',
      answered: true,
      partner: null,
      conference: null,
      profile: 'internal',
      domain: 'a.test',
      caller: '1001',
      callee: '1002',
      callId: null,
      recovered: false,
      ...channel,
    };
    farm.post({ status, downSince: null, channels: new Map([[c.uuid, c]]) });
    return farm;
  }

  async function manager(
    farm: FsFarm,
    command: (cmd: string) => Promise<string>,
  ): Promise<Behavior<FsCallsProtocol>> {
    return callManagerActor.create(
      {
        settings: { recordingsDir: '/rec', originateTimeoutS: 30, context: 'domain' },
        farm,
        command: (_host, _kind, cmd) => command(cmd),
        newUuid: () => UUID,
      },
      {} as never,
    );
  }

  async function rejected(f: () => unknown): Promise<{ status: number; code: string }> {
    try {
      await f();
    } catch (err) {
      const { status, body } = errorResponse(err);
      return { status, code: body.error.code };
    }
    throw new Error('did not reject');
  }

  it('answers 503 MW_ERR_CALL_HOST_UNAVAILABLE when the host does not answer, and keeps running', async () => {
    const m = await manager(farmWith({}), () =>
      Promise.reject(new EslTimeout('uuid_kill: no reply in 5000 ms')),
    );
    const h = m.handlers;
    assert.deepEqual(await rejected(() => h.hangup.call(m, { domain: 'a.test', id: UUID })), {
      status: 503,
      code: 'MW_ERR_CALL_HOST_UNAVAILABLE',
    });
    assert.equal((await h.get.call(m, { domain: 'a.test', id: UUID })).id, UUID);
  });

  it('sends exactly the command line built from the request', async () => {
    const sent: string[] = [];
    const m = await manager(farmWith({}), async (cmd) => (sent.push(cmd), '+OK\n'));
    const h = m.handlers;
    await h.transfer.call(m, { domain: 'a.test', id: UUID, to: '3000' });
    await h.dtmf.call(m, { domain: 'a.test', id: UUID, digits: '1#', duration_ms: 100 });
    await h.hangup.call(m, { domain: 'a.test', id: UUID });
    assert.deepEqual(sent, [
      `uuid_transfer ${UUID} 3000 XML a.test`,
      `uuid_send_dtmf ${UUID} 1#@100`,
      `uuid_kill ${UUID} NORMAL_CLEARING`,
    ]);
    assert.deepEqual(await rejected(() => h.get.call(m, { domain: 'b.test', id: UUID })), {
      status: 404,
      code: 'MW_ERR_CALL_NOT_FOUND',
    });
  });
});
