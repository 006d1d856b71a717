// fs-a carries CALLS bridged calls (+ CONF conference members); fs-a is crashed (`fsctl crash`), its rows
// are (optionally) rewritten to fs-b's media IP, and fs-b runs `fsctl recover`. Records the ESL bytes,
// the rows before/after, `ss -uanp`, and checks the legs survive the re-INVITE window.
// Env: CALLS (5) CONF (2) REWRITE (1) RECORD (1: write fixtures) WINDOW_S (40) TAG (recovery)
//      RELAY (1: UDP relay on fs-a's old SIP address to fs-b, see lib.mjs relay)
//      ASSIGN (0; MODE=rls: assign only half of the calls to fs-b in mware_recovery_assign)
// Needs start-two.sh running and no calls up. Restarts fs-a at the end.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { EslRec, eventHeaders, sleep } from './esl.mjs';
import { A, B, OUT, LOGS, HERE, uas, uac, psql, sh, relay } from './lib.mjs';

const CALLS = Number(process.env.CALLS ?? 5);
const CONF = Number(process.env.CONF ?? 2);
const REWRITE = process.env.REWRITE !== '0';
const RECORD = process.env.RECORD !== '0';
const WINDOW_S = Number(process.env.WINDOW_S ?? 40);
const TAG = process.env.TAG ?? 'recovery';
const ASSIGN = process.env.ASSIGN === '1';
const RELAY = process.env.RELAY !== '0';
const out = (n) => (RECORD ? join(OUT, n) : join(LOGS, n));
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);
const legsWanted = 2 * CALLS + CONF;
const rowsOf = (h) => Number(psql(`select count(*) from recovery where hostname = '${h}'`).trim());

const peer = uas(`${TAG}-uas`);
await sleep(500);
const a = await EslRec.open(A.ip, A.esl, A.pw);
const callers = uac(`${TAG}-uac`, A, 'bridge', CALLS, 50);
const confs = CONF ? uac(`${TAG}-uac-conf`, A, 'conf-room2', CONF, 10) : null;
let n = 0;
for (let i = 0; i < 600; i++) {
  n = rowsOf('fs-a');
  if (n >= legsWanted) break;
  await sleep(200);
}
log(`fs-a rows: ${n} (want ${legsWanted})`);
await sleep(2000); // let bridge/ACK updates land
const chansA = (await a.cmd('api show channels as json')).body;
if (RECORD)
  writeFileSync(
    out(`${TAG}-rows-before.json`),
    psql("select coalesce(json_agg(r order by uuid), '[]') from (select * from recovery) r"),
  );

let assigned = [];
const statsBefore = ASSIGN
  ? psql("select n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables where relname = 'recovery'", [
      '-F',
      ' | ',
    ])
  : '';
if (ASSIGN) {
  // Assign every other bridged call (both legs) + the conference members to fs-b; the rest stay hidden from it.
  const pairs = psql(
    "select caller_uuid || ' ' || callee_uuid from calls where hostname = 'fs-a' order by call_created_epoch, caller_uuid",
  )
    .trim()
    .split('\n')
    .filter(Boolean);
  pairs.forEach((p, i) => {
    if (i % 2 === 0) assigned.push(...p.split(' '));
  });
  const conf = (JSON.parse(chansA).rows ?? []).filter((r) => r.dest === 'conf-room2');
  for (const r of conf) assigned.push(r.uuid);
  psql('truncate mware_recovery_assign');
  for (const u of assigned) psql(`insert into mware_recovery_assign values ('${u}', 'fs-b')`);
  log(`assigned ${assigned.length} legs to fs-b`);
}

// fs-b listeners
const bj = await EslRec.open(B.ip, B.esl, B.pw);
await bj.cmd('event json ALL');
const bp = await EslRec.open(B.ip, B.esl, B.pw);
await bp.cmd(
  'event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CUSTOM sofia::recovery_recovered',
);
const bc = await EslRec.open(B.ip, B.esl, B.pw);

// crash fs-a: no reply, connection closes
const tCrash = Date.now();
a.write('api fsctl crash\n\n');
const closed = await a.waitClose(10_000);
log('fs-a closed after crash:', closed, Date.now() - tCrash, 'ms');
a.close();
if (RECORD) a.save(out('fsctl-crash'));
const rel = RELAY ? await relay(A.ip, 5060, B.ip, 5060) : null;
await sleep(500);
log(
  `after crash rows fs-a=${rowsOf('fs-a')} channels=${psql("select count(*) from channels where hostname='fs-a'").trim()} calls=${psql("select count(*) from calls where hostname='fs-a'").trim()}`,
);

if (REWRITE) {
  const r = psql(`update recovery set metadata = replace(replace(metadata,
      '<local_media_ip>127.0.0.21</local_media_ip>', '<local_media_ip>127.0.0.22</local_media_ip>'),
      '<advertised_media_ip>127.0.0.21</advertised_media_ip>', '<advertised_media_ip>127.0.0.22</advertised_media_ip>')
    where hostname = 'fs-a' returning uuid`);
  log('rewritten rows:', r.trim().split('\n').filter(Boolean).length);
}
const ssBefore = sh("ss -uanp | grep -E '127\\.0\\.0\\.2[12]:' || true");

const t0 = process.hrtime.bigint();
const rep = await bc.cmd('api fsctl recover', 120_000);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
log(`fsctl recover: ${rep.body.trim()} in ${ms.toFixed(1)} ms`);
if (RECORD) bc.save(out('fsctl-recover'));
await sleep(1500);
log(`rows now: fs-a=${rowsOf('fs-a')} fs-b=${rowsOf('fs-b')}`);
if (ASSIGN) {
  // RLS evidence (FINDINGS.md b): rows as the superuser with their assignment, table counters, what each
  // FreeSWITCH identity sees, and a by-uuid update/delete of a target row attempted as the source identity.
  const u = psql("select uuid from recovery where hostname = 'fs-b' order by uuid limit 1").trim();
  const asFs = (app, sql) =>
    sh(
      `PGPASSWORD=fsrls PGAPPNAME=${app} psql -h 127.0.0.1 -p 55432 -U fsrls -d freeswitch_rls -c "begin" -c "${sql}" -c "rollback" 2>&1`,
    );
  await sleep(1500); // pg_stat counters are flushed about once a second
  const ev = [
    `# fsctl recover on fs-b: ${rep.body.trim()} (${assigned.length} legs assigned to fs-b of ${legsWanted})`,
    '# recovery rows (as postgres, RLS bypassed) with their mware_recovery_assign target',
    psql(
      "select r.hostname, r.runtime_uuid, r.uuid, coalesce(a.target, '-') as assigned_to from recovery r left join mware_recovery_assign a using (uuid) order by 1, 4, 3",
      ['-P', 'footer=off', '-F', ' | '],
    ),
    '# pg_stat_user_tables for recovery: n_tup_ins | n_tup_upd | n_tup_del, before the calls, then now',
    statsBefore,
    psql("select n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables where relname = 'recovery'", [
      '-F',
      ' | ',
    ]),
    sh(`MODE=rls ${join(HERE, 'rls-check.sh')} 2>&1`),
    `# as fsrls, application_name=fs-a (the source), by uuid on fs-b's row ${u}`,
    asFs('fs-a', `update recovery set metadata = metadata where uuid = '${u}'`),
    asFs('fs-a', `delete from recovery where uuid = '${u}'`),
    `# as fsrls, application_name=fs-b (the target), same row`,
    asFs('fs-b', `update recovery set metadata = metadata where uuid = '${u}'`),
  ].join('\n');
  writeFileSync(out(`${TAG}-evidence.txt`), ev);
}
const rowsAfterRecover = psql(
  "select coalesce(json_agg(r order by uuid), '[]') from (select runtime_uuid, technology, profile_name, hostname, uuid from recovery) r",
);
const ssAfter = sh("ss -uanp | grep -E '127\\.0\\.0\\.2[12]:' || true");

// re-INVITE window: count hangups
const deadline = Date.now() + WINDOW_S * 1000;
while (Date.now() < deadline) await sleep(1000);
const evs = bj.frames.filter((f) => f.headers['Content-Type'] === 'text/event-json').map(eventHeaders);
const count = (name) => evs.filter((e) => e['Event-Name'] === name).length;
const hang = evs.filter((e) => e['Event-Name'] === 'CHANNEL_HANGUP').map((e) => e['Hangup-Cause']);
const created = evs.filter((e) => e['Event-Name'] === 'CHANNEL_CREATE');
log(
  `fs-b events: CREATE=${count('CHANNEL_CREATE')} (recovered=${created.filter((e) => e.variable_recovered === 'true').length}) BRIDGE=${count('CHANNEL_BRIDGE')} ANSWER=${count('CHANNEL_ANSWER')} HANGUP=${hang.length} ${JSON.stringify([...new Set(hang)])}`,
);
const chansB = (await bc.cmd('api show channels as json')).body;
const callsB = (await bc.cmd('api show calls as json')).body;
const confB = CONF ? (await bc.cmd('api conference room2 list')).body : '';
const nB = JSON.parse(chansB).row_count;
log(`fs-b show channels row_count=${nB}; rows fs-a=${rowsOf('fs-a')} fs-b=${rowsOf('fs-b')}`);
const summary = {
  relay: RELAY,
  calls: CALLS,
  conf: CONF,
  legs: legsWanted,
  rewrite: REWRITE,
  assigned: assigned.length,
  reply: rep.body.trim(),
  recoverMs: Math.round(ms * 10) / 10,
  hangupsInWindow: hang,
  windowS: WINDOW_S,
  createdRecovered: created.filter((e) => e.variable_recovered === 'true').length,
  bridges: count('CHANNEL_BRIDGE'),
  answers: count('CHANNEL_ANSWER'),
  channelsOnB: nB,
  rowsAfter: { fsA: rowsOf('fs-a'), fsB: rowsOf('fs-b') },
};
writeFileSync(join(LOGS, `${TAG}-summary.json`), JSON.stringify(summary, null, 2));
writeFileSync(
  out(`${TAG}-ss-uanp.txt`),
  `# ss -uanp before fsctl recover on fs-b (fs-a crashed)\n${ssBefore}\n# after\n${ssAfter}`,
);
if (RECORD) {
  writeFileSync(out(`${TAG}-show-channels-fs-a-before.json`), chansA);
  writeFileSync(out(`${TAG}-show-channels-fs-b-after.json`), chansB);
  writeFileSync(out(`${TAG}-show-calls-fs-b-after.json`), callsB);
  if (CONF) writeFileSync(out(`${TAG}-conference-list-fs-b-after.txt`), confB);
  writeFileSync(out(`${TAG}-rows-after-recover.json`), rowsAfterRecover);
  writeFileSync(
    out(`${TAG}-rows-after-window.json`),
    psql("select coalesce(json_agg(r order by uuid), '[]') from (select * from recovery) r"),
  );
  writeFileSync(out(`${TAG}-summary.json`), JSON.stringify(summary, null, 2));
}
bj.close();
bp.close();
bj.save(out(`${TAG}-events-json-fs-b`));
bp.save(out(`${TAG}-events-plain-fs-b`));
// clean up: hang up everything on fs-b, stop peers, restart fs-a
await bc.cmd('api hupall NORMAL_CLEARING');
bc.close();
await sleep(2000);
rel?.close();
callers.kill('SIGTERM');
confs?.kill('SIGTERM');
peer.kill('SIGTERM');
psql("delete from recovery where hostname = 'fs-a'");
sh(`${join(HERE, 'start-two.sh')} start`);
log('done');
