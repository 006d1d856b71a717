// RTP port collision on recovery (FINDINGS.md g). fs-b holds one live bridged call; fs-a holds one; fs-a is
// crashed, its rows get fs-b's media IP, and one fs-a leg's <local_media_port> is set to the port one of fs-b's
// own legs is using (COLLIDE=1, default) or to a port free on fs-b (COLLIDE=0, the fix); then `fsctl recover`
// on fs-b. Records `ss -uanp`, the socket options, FreeSWITCH's log lines, and which channel receives a test RTP
// stream sent to that port before and after the recovery (per-leg `rtp_audio_in_packet_count` at hangup).
// Env: COLLIDE (1) TAG (port-collision | port-fixed) FREE_PORT (30900)
// Needs start-two.sh running and no calls up. Restarts fs-a at the end.
import { join } from 'node:path';
import { writeFileSync, readFileSync, statSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { EslRec, eventHeaders, sleep } from './esl.mjs';
import { A, B, OUT, LOGS, HERE, uas, uac, psql, sh, relay } from './lib.mjs';

const COLLIDE = process.env.COLLIDE !== '0';
const TAG = process.env.TAG ?? (COLLIDE ? 'port-collision' : 'port-fixed');
const FREE_PORT = Number(process.env.FREE_PORT ?? 30900);
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);
const lines = [];
const note = (s) => {
  lines.push(s);
  log(s);
};
const rows = (h) =>
  psql(
    `select uuid || ' ' || substring(metadata from '<local_media_port>([0-9]+)</local_media_port>') || ' ' || coalesce(substring(metadata from '<direction>([a-z]+)</direction>'), '?') from recovery where hostname = '${h}' order by uuid`,
  )
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [uuid, port, dir] = l.split(' ');
      return { uuid, port: Number(port), dir };
    });
const waitRows = async (h, n) => {
  for (let i = 0; i < 150; i++) {
    if (rows(h).length >= n) return rows(h);
    await sleep(200);
  }
  throw new Error(`${h}: fewer than ${n} rows`);
};
/** 50 PCMU packets, 20 ms apart, from 127.0.0.51:41000 (a stand-in for a peer's media). */
const rtpSock = createSocket('udp4');
await new Promise((r) => rtpSock.bind(41000, '127.0.0.51', r));
let seq = 1000;
let ts = 160000;
async function sendRtp(port, n = 50) {
  for (let i = 0; i < n; i++) {
    const p = Buffer.alloc(12 + 160, 0xff);
    p[0] = 0x80;
    p[1] = 0; // PCMU
    p.writeUInt16BE(seq++ & 0xffff, 2);
    p.writeUInt32BE((ts += 160), 4);
    p.writeUInt32BE(0x51515151, 8);
    rtpSock.send(p, port, B.ip);
    await sleep(20);
  }
}
const logSize = (n) => statSync(`/opt/fs-inst/${n}/log/freeswitch.log`).size;
const logSince = (n, from) =>
  readFileSync(`/opt/fs-inst/${n}/log/freeswitch.log`).subarray(from).toString('utf8');

const peer = uas(`${TAG}-uas`);
await sleep(500);
const bc = await EslRec.open(B.ip, B.esl, B.pw);
const bj = await EslRec.open(B.ip, B.esl, B.pw);
await bj.cmd('event json CHANNEL_CREATE CHANNEL_BRIDGE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE');
const own = uac(`${TAG}-uac-b`, B, 'bridge', 1, 1);
const bRows = await waitRows('fs-b', 2);
await sleep(1500);
const victim = bRows.reduce((m, r) => (r.port < m.port ? r : m));
note(`fs-b own legs: ${JSON.stringify(bRows)}; victim leg ${victim.uuid} on ${B.ip}:${victim.port}`);
note(`baseline: 50 RTP packets to ${B.ip}:${victim.port} before the recovery`);
await sendRtp(victim.port);

const a = await EslRec.open(A.ip, A.esl, A.pw);
const callers = uac(`${TAG}-uac-a`, A, 'bridge', 1, 1);
const aRows = await waitRows('fs-a', 2);
await sleep(1500);
const moved = aRows.find((r) => r.dir === 'inbound') ?? aRows[0];
const newPort = COLLIDE ? victim.port : FREE_PORT;
note(`fs-a legs: ${JSON.stringify(aRows)}; leg ${moved.uuid} (port ${moved.port}) gets port ${newPort}`);

a.write('api fsctl crash\n\n');
await a.waitClose(10_000);
a.close();
const rel = await relay(A.ip, 5060, B.ip, 5060);
await sleep(500);
psql(`update recovery set metadata = replace(replace(metadata,
    '<local_media_ip>127.0.0.21</local_media_ip>', '<local_media_ip>127.0.0.22</local_media_ip>'),
    '<advertised_media_ip>127.0.0.21</advertised_media_ip>', '<advertised_media_ip>127.0.0.22</advertised_media_ip>')
  where hostname = 'fs-a'`);
psql(`update recovery set metadata = replace(metadata,
    '<local_media_port>${moved.port}</local_media_port>', '<local_media_port>${newPort}</local_media_port>')
  where uuid = '${moved.uuid}'`);
const ssBefore = sh("ss -uanpe | grep -E '127\\.0\\.0\\.22:' || true");
const logFrom = logSize('fs-b');
const rep = await bc.cmd('api fsctl recover', 60_000);
note(`fsctl recover on fs-b: ${rep.body.trim()}`);
await sleep(3000);
const ssAfter = sh("ss -uanpe | grep -E '127\\.0\\.0\\.22:' || true");
const onPort = ssAfter.split('\n').filter((l) => l.includes(`${B.ip}:${newPort} `));
note(`sockets on ${B.ip}:${newPort} after the recovery: ${onPort.length}`);
note(`after recovery: 50 RTP packets to ${B.ip}:${newPort}`);
await sendRtp(newPort);
await sleep(5000);
const chans = JSON.parse((await bc.cmd('api show channels as json')).body);
note(`fs-b channels up: ${chans.row_count}`);
const fsLog = logSince('fs-b', logFrom)
  .split('\n')
  .filter((l) =>
    /Bind Error|RTP REPORTS ERROR|Auto Changing|AUTO ADJUST|Resurrecting|Recovering|Bind|Address|REUSE|Error/i.test(
      l,
    ),
  )
  .map((l) => l.replace(/^[0-9a-f-]{36} /, ''))
  .slice(0, 40);

// hang up everything on fs-b, read the per-leg RTP counters from CHANNEL_HANGUP_COMPLETE
const hupFrom = bj.frames.length;
await bc.cmd('api hupall NORMAL_CLEARING');
await sleep(2500);
const evOf = (fs) => fs.filter((f) => f.headers['Content-Type'] === 'text/event-json').map(eventHeaders);
const early = evOf(bj.frames.slice(0, hupFrom)).filter((e) => e['Event-Name'] === 'CHANNEL_HANGUP');
const complete = evOf(bj.frames).filter((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE');
const before = early.length;
note(`hangups before hupall: ${before} ${JSON.stringify(early.map((e) => e['Hangup-Cause']))}`);
for (const e of complete) {
  const who =
    e['Unique-ID'] === victim.uuid
      ? 'fs-b own (victim)'
      : e['Unique-ID'] === moved.uuid
        ? 'recovered (moved)'
        : e.variable_recovered === 'true'
          ? 'recovered (other)'
          : 'fs-b own (other)';
  note(
    `leg ${e['Unique-ID']} ${who}: local ${e.variable_local_media_ip}:${e.variable_local_media_port} in_packets=${e.variable_rtp_audio_in_packet_count} in_skip=${e.variable_rtp_audio_in_skip_packet_count} flaws=${e.variable_rtp_audio_in_flaw_total} remote=${e.variable_remote_media_ip}:${e.variable_remote_media_port} cause=${e['Hangup-Cause']}`,
  );
}
const msgs = ['uac-a', 'uas']
  .map((t) => {
    try {
      return readFileSync(join(LOGS, `${TAG}-${t}.msg`), 'utf8');
    } catch {
      return '';
    }
  })
  .join('\n');
const mAudio = [...msgs.matchAll(/m=audio (\d+)/g)].map((m) => Number(m[1]));
note(`m=audio ports seen by the fs-a call's sipp peers: ${JSON.stringify([...new Set(mAudio)])}`);

writeFileSync(
  join(OUT, `${TAG}.txt`),
  [
    `# record-port-collision.mjs COLLIDE=${COLLIDE ? 1 : 0}`,
    ...lines,
    '# ss -uanpe on 127.0.0.22 before fsctl recover',
    ssBefore.trim(),
    '# after',
    ssAfter.trim(),
    '# fs-b freeswitch.log lines (filtered) during the recovery',
    ...fsLog,
  ].join('\n') + '\n',
);
bc.close();
bj.close();
rel.close();
rtpSock.close();
callers.kill('SIGTERM');
own.kill('SIGTERM');
peer.kill('SIGTERM');
psql("delete from recovery where hostname = 'fs-a'");
sh(`${join(HERE, 'start-two.sh')} start`);
log('done');
