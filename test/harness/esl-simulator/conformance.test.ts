import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { RecoveryTable } from '../../../src/freeswitch/recovery-table.ts';
import type { PgServer } from '../postgres.ts';
import { startPostgres } from '../postgres.ts';
import { PROJECT_ROOT } from '../node.ts';
import { startEslSimulator } from './index.ts';
import type { SimHost } from './index.ts';

/**
 * The simulator against a real FreeSWITCH 1.10.12: each transcript in test/fixtures/freeswitch-real/ (the exact
 * bytes a real one sent, recorded in a working session) is replayed — its `.sent` bytes, one command at a time —
 * and the simulator must answer the same bytes (UUIDs aside). Where they differ, the real one is right.
 */

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/freeswitch-real');
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * Sends each command of `sent` (blank-line separated), then gathers what comes back. Every step is answered (the
 * greeting, each command's reply), so after each one this waits for an answer to begin (or the close), then until
 * nothing more arrives for 80 ms: a busy machine delays an answer, it does not drop it.
 */
async function replay(port: number, sent: string): Promise<string> {
  const s = connect(port, '127.0.0.1');
  let got = '';
  let closed = false;
  s.on('data', (d) => (got += d.toString('utf8')));
  s.on('close', () => (closed = true));
  s.on('error', () => undefined);
  const answered = async (before: number): Promise<void> => {
    for (const end = performance.now() + 10_000; !closed && got.length === before && performance.now() < end;)
      await new Promise((r) => setTimeout(r, 10));
    for (let last = -1; !closed && got.length !== last;) {
      last = got.length;
      await new Promise((r) => setTimeout(r, 80));
    }
  };
  await answered(0);
  for (const cmd of sent.split('\n\n').filter((c) => c.trim() !== '')) {
    if (closed) break;
    const before = got.length;
    s.write(`${cmd}\n\n`);
    await answered(before);
  }
  s.destroy();
  return got.replace(UUID, '<uuid>');
}

describe('the ESL simulator answers as a real FreeSWITCH 1.10.12 did (recorded transcripts)', () => {
  let server: PgServer;
  let sim: SimHost;
  before(async () => {
    server = await startPostgres({ name: 'pg-esl-conformance' });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE ROLE fs LOGIN');
    await new RecoveryTable(admin).install();
    await admin.end();
    sim = await startEslSimulator({
      name: 'fs-a',
      switchname: 'fs-a',
      addresses: ['127.0.0.21'],
      sipIp: '127.0.0.21',
      mediaIp: '127.0.0.21',
      profiles: ['internal'],
      db: { connectionString: `postgres://fs@${server.host}:${server.port}/postgres` },
    });
  });
  after(async () => {
    await sim?.stop();
    await server?.stop();
  });

  for (const name of [
    'greeting',
    'auth-ok',
    'auth-wrong',
    'before-auth',
    'unknown-command',
    'api-uuid-kill-bad',
    'api-show-channels-json-0',
    'api-show-calls-json-0',
    'fsctl-pause',
  ])
    it(`${name}: the same bytes`, async () => {
      const sent = readFileSync(join(FIXTURES, `${name}.sent`), 'utf8');
      const real = readFileSync(join(FIXTURES, `${name}.recv`), 'utf8').replace(UUID, '<uuid>');
      assert.equal(await replay(sim.eslPort, sent), real);
    });

  it('api-originate-fail: error/<CAUSE> answers -ERR <CAUSE> as the real one', async () => {
    const real = readFileSync(join(FIXTURES, 'api-originate-fail.recv'), 'utf8');
    const upToFirst = real.slice(0, real.indexOf('-ERR USER_BUSY\n') + '-ERR USER_BUSY\n'.length);
    assert.equal(
      await replay(sim.eslPort, 'auth ClueCon\n\napi originate error/USER_BUSY &park()\n\n'),
      upToFirst,
    );
  });
});
