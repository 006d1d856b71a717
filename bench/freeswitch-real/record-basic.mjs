// Records the ESL transcripts that need no recovery (see test/fixtures/freeswitch-real/README.md).
// Needs: start-two.sh running (MODE=plain), no calls up. Usage: node bench/freeswitch-real/record-basic.mjs
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { EslRec, eventHeaders, sleep } from './esl.mjs';
import { A, OUT, uas, uac, psql } from './lib.mjs';

const out = (n) => join(OUT, n);
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);

async function simple(name, lines, pw = A.pw) {
  const r = await EslRec.open(A.ip, A.esl, pw);
  for (const l of lines) await r.cmd(l, 40_000);
  r.close();
  r.save(out(name));
  return r;
}

// greeting: connect and read until the greeting frame; close.
{
  const r = new EslRec(A.ip, A.esl);
  await r.connect();
  await r.next((f) => f.headers['Content-Type'] === 'auth/request');
  await sleep(300);
  r.close();
  r.save(out('greeting'));
}
// auth ok
{
  const r = await EslRec.open(A.ip, A.esl, A.pw);
  await sleep(300);
  r.close();
  r.save(out('auth-ok'));
}
// auth wrong: -ERR invalid, then disconnect-notice and close
{
  const r = new EslRec(A.ip, A.esl);
  await r.connect();
  await r.next((f) => f.headers['Content-Type'] === 'auth/request');
  r.write('auth wrong-password\n\n');
  const closed = await r.waitClose(5000);
  log('auth-wrong closed by server:', closed);
  r.close();
  r.save(out('auth-wrong'));
}
// a command before auth, then auth
{
  const r = new EslRec(A.ip, A.esl);
  await r.connect();
  await r.next((f) => f.headers['Content-Type'] === 'auth/request');
  await r.cmd('api status');
  await r.cmd('event plain ALL');
  await r.cmd(`auth ${A.pw}`);
  await sleep(300);
  r.close();
  r.save(out('before-auth'));
}
await simple('api-status', ['api status']);
await simple('api-global-getvar-core-uuid', ['api global_getvar core_uuid']);
await simple('api-show-channels-json-0', ['api show channels as json']);
await simple('api-show-calls-json-0', ['api show calls as json']);
await simple('api-uuid-kill-bad', ['api uuid_kill 00000000-0000-4000-8000-000000000000']);
await simple('api-originate-fail', [
  'api originate error/USER_BUSY &park()',
  'api originate sofia/internal/nobody@127.0.0.99:5099;transport=tcp &park()',
]);
await simple('unknown-command', ['api nosuchcommand', 'nosuchcommand']);
await simple('fsctl-pause', [
  'api fsctl pause',
  'api originate sofia/internal/uas@127.0.0.31:5080 &park()',
  'api fsctl resume',
]);

// bgapi: without subscription the BACKGROUND_JOB is not delivered; with one it is.
{
  const r = await EslRec.open(A.ip, A.esl, A.pw);
  await r.cmd('bgapi status');
  await sleep(1500);
  await r.cmd('event plain BACKGROUND_JOB');
  const rep = await r.cmd('bgapi status');
  const job = rep.headers['Job-UUID'];
  await r.next(
    (f) => f.headers['Content-Type'] === 'text/event-plain' && f.body.includes(`Job-UUID: ${job}`),
    5000,
    0,
  );
  await r.cmd('event json BACKGROUND_JOB'); // replaces the format for the next job
  const rep2 = await r.cmd('bgapi global_getvar core_uuid');
  const job2 = rep2.headers['Job-UUID'];
  await r.next((f) => f.headers['Content-Type'] === 'text/event-json' && f.body.includes(job2), 5000, 0);
  r.close();
  r.save(out('bgapi-status'));
}

// Calls: sipp UAS answering B legs; UAC calling in.
const peerB = uas('uas-basic');
await sleep(500);

// originate success (B leg answered by the UAS), then kill it
{
  const r = await EslRec.open(A.ip, A.esl, A.pw);
  const body = (
    await r.cmd(
      'api originate {origination_caller_id_number=1000}sofia/internal/uas@127.0.0.31:5080 &park()',
      40_000,
    )
  ).body;
  log('originate:', body.trim());
  const uuid = body.trim().split(' ')[1];
  await sleep(500);
  await r.cmd(`api uuid_kill ${uuid}`);
  r.close();
  r.save(out('api-originate-ok'));
}
await sleep(1000);

// event streams during setup, bridge, heartbeat, hangup of one bridged call
{
  const j = await EslRec.open(A.ip, A.esl, A.pw);
  await j.cmd('event json ALL');
  const p = await EslRec.open(A.ip, A.esl, A.pw);
  await p.cmd('event plain ALL');
  const c = await EslRec.open(A.ip, A.esl, A.pw);
  const caller = uac('uac-events', A, 'bridge', 1);
  await j.next((f) => f.body.includes('"Event-Name":"CHANNEL_BRIDGE"'), 20_000, 0);
  log('bridged');
  await sleep(1000);
  // 2 channels up: show channels / calls
  await c.cmd('api show channels as json');
  await c.cmd('api show calls as json');
  c.save(out('api-show-channels-calls-json-2'));
  writeFileSync(
    out('recovery-rows-bridged.json'),
    psql(
      "select coalesce(json_agg(r order by uuid), '[]') from (select * from recovery where hostname = 'fs-a') r",
    ),
  );
  writeFileSync(
    out('recovery-rows-bridged.csv'),
    psql(
      "copy (select * from recovery where hostname = 'fs-a' order by uuid) to stdout with (format csv, header)",
    ),
  );
  await j.next((f) => f.body.includes('"Event-Name":"HEARTBEAT"'), 25_000, 0);
  log('heartbeat seen');
  const chans = JSON.parse((await c.cmd('api show channels as json')).body);
  const inbound = chans.rows.find((x) => x.direction === 'inbound');
  await c.cmd(`api uuid_kill ${inbound.uuid}`);
  await j.next(
    (f) => f.body.includes('"Event-Name":"CHANNEL_HANGUP_COMPLETE"') && f.body.includes('outbound'),
    10_000,
    0,
  );
  await sleep(1500);
  j.close();
  p.close();
  c.close();
  j.save(out('events-json-call'));
  p.save(out('events-plain-call'));
  log('events json:', j.frames.length, 'plain:', p.frames.length, 'uac exit', await caller.exitedP);
  const names = j.frames
    .filter((f) => f.headers['Content-Type'] === 'text/event-json')
    .map((f) => eventHeaders(f)['Event-Name']);
  log('names:', [...new Set(names)].join(' '));
}

// conference with 2 members; recovery rows of a member
{
  const c = await EslRec.open(A.ip, A.esl, A.pw);
  const members = uac('uac-conf', A, 'conf-room1', 2);
  for (let i = 0; i < 50; i++) {
    if ((await c.api('conference room1 list count')).trim() === '2') break;
    await sleep(200);
  }
  await sleep(1500);
  await c.cmd('api conference room1 list');
  await c.cmd('api conference list');
  await c.cmd('api conference room1 json_list');
  c.save(out('api-conference-list-2'));
  writeFileSync(
    out('recovery-rows-conference.json'),
    psql(
      "select coalesce(json_agg(r order by uuid), '[]') from (select * from recovery where hostname = 'fs-a') r",
    ),
  );
  writeFileSync(
    out('recovery-rows-conference.csv'),
    psql(
      "copy (select * from recovery where hostname = 'fs-a' order by uuid) to stdout with (format csv, header)",
    ),
  );
  await c.cmd('api hupall NORMAL_CLEARING');
  await members.exitedP;
  c.close();
}
peerB.kill('SIGTERM');
log('done');
