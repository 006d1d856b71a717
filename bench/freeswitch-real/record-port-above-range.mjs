// A recovered leg whose port lies above the target's rtp-end-port, then hung up (FINDINGS.md g, last point):
// switch_rtp_release_port → switch_core_port_allocator_free_port indexes its track array with no upper bound.
// fs-b holds one call of its own (so its allocator for 127.0.0.22 exists); fs-a holds one; fs-a is crashed, its
// rows get fs-b's media IP and the ports PORT, PORT+2 (60000: far above fs-b's 30000-30999); `fsctl recover` on
// fs-b; `hupall`; then fs-b is asked `status` and a new call is placed on it. Env: PORT (60000) TAG (port-above-range)
// Needs start-two.sh running and no calls up. Restarts fs-a at the end.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { EslRec, sleep } from './esl.mjs';
import { A, B, OUT, HERE, uas, uac, psql, sh, relay } from './lib.mjs';

const PORT = Number(process.env.PORT ?? 60000);
const TAG = process.env.TAG ?? 'port-above-range';
const lines = [];
const note = (s) => {
  lines.push(s);
  console.log(new Date().toISOString().slice(11, 23), s);
};
const rowsOf = (h) => Number(psql(`select count(*) from recovery where hostname = '${h}'`).trim());
const waitRows = async (h, n) => {
  for (let i = 0; i < 150 && rowsOf(h) < n; i++) await sleep(200);
};
const peer = uas(`${TAG}-uas`);
await sleep(500);
const own = uac(`${TAG}-uac-b`, B, 'bridge', 1, 1);
await waitRows('fs-b', 2);
const a = await EslRec.open(A.ip, A.esl, A.pw);
const callers = uac(`${TAG}-uac-a`, A, 'bridge', 1, 1);
await waitRows('fs-a', 2);
await sleep(1500);
a.write('api fsctl crash\n\n');
await a.waitClose(10_000);
a.close();
const rel = await relay(A.ip, 5060, B.ip, 5060);
await sleep(500);
const uuids = psql("select uuid from recovery where hostname = 'fs-a' order by uuid").trim().split('\n');
uuids.forEach((u, i) =>
  psql(`update recovery set metadata = regexp_replace(replace(replace(metadata,
      '<local_media_ip>127.0.0.21</local_media_ip>', '<local_media_ip>127.0.0.22</local_media_ip>'),
      '<advertised_media_ip>127.0.0.21</advertised_media_ip>', '<advertised_media_ip>127.0.0.22</advertised_media_ip>'),
      '<local_media_port>[0-9]+</local_media_port>', '<local_media_port>${PORT + 2 * i}</local_media_port>')
    where uuid = '${u}'`),
);
const b = await EslRec.open(B.ip, B.esl, B.pw);
note(`fsctl recover on fs-b: ${(await b.api('fsctl recover', 60_000)).trim()}`);
await sleep(3000);
note(
  `bound: ${sh(`ss -uanp | grep -E '127\\.0\\.0\\.22:(${PORT}|${PORT + 2}) ' | wc -l`).trim()} socket(s) on ${PORT}, ${PORT + 2}`,
);
note(`hupall: ${(await b.api('hupall NORMAL_CLEARING')).trim()}`);
await sleep(3000);
let alive;
try {
  const s = await EslRec.open(B.ip, B.esl, B.pw);
  alive = (await s.api('status')).split('\n')[0];
  s.close();
} catch (e) {
  alive = `no answer: ${e.message}`;
}
note(`fs-b after the hangups: ${alive}`);
note(
  `fs-b pid alive: ${sh(`kill -0 $(cat /opt/fs-inst/fs-b/run/freeswitch.pid) 2>&1 && echo yes || echo no`).trim()}`,
);
const again = uac(`${TAG}-uac-b2`, B, 'bridge', 1, 1);
await waitRows('fs-b', 2);
note(`a new call on fs-b afterwards: ${rowsOf('fs-b')} row(s)`);
writeFileSync(join(OUT, `${TAG}.txt`), `# record-port-above-range.mjs PORT=${PORT}\n${lines.join('\n')}\n`);
try {
  const s = await EslRec.open(B.ip, B.esl, B.pw);
  await s.api('hupall NORMAL_CLEARING');
  s.close();
} catch {
  /* fs-b gone */
}
b.close();
rel.close();
for (const p of [own, callers, again, peer]) p.kill('SIGTERM');
psql("delete from recovery where hostname = 'fs-a'");
sh(`${join(HERE, 'start-two.sh')} start`);
console.log('done');
