// Shared helpers for the recording scripts: the setup's addresses, sipp peers, psql.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const OUT = join(ROOT, 'test', 'fixtures', 'freeswitch-real');
export const LOGS = process.env.REC_LOGS ?? '/opt/fs-inst/rec-logs';
mkdirSync(OUT, { recursive: true });
mkdirSync(LOGS, { recursive: true });
export const A = { name: 'fs-a', ip: '127.0.0.21', esl: 8021, pw: 'ClueCon' };
export const B = { name: 'fs-b', ip: '127.0.0.22', esl: 8021, pw: 'ClueCon' };
export const UAS = { ip: '127.0.0.31', port: 5080 };
export const UAC_IP = '127.0.0.41';
export const PG = { port: 55432, db: process.env.MODE === 'rls' ? 'freeswitch_rls' : 'freeswitch' };

/** Starts a sipp process (its own, killed by pid later); output to LOGS/<tag>.log. */
export function sipp(tag, args) {
  const fd = openSync(join(LOGS, `${tag}.log`), 'w');
  const p = spawn(
    'sipp',
    [
      ...args,
      '-nostdin',
      '-trace_err',
      '-error_file',
      join(LOGS, `${tag}.err`),
      '-trace_msg',
      '-message_file',
      join(LOGS, `${tag}.msg`),
    ],
    { stdio: ['ignore', fd, fd] },
  );
  p.exitedP = new Promise((r) => p.on('exit', (c) => r(c)));
  return p;
}
export function uas(tag = 'uas') {
  return sipp(tag, [
    '-sf',
    join(HERE, 'scenarios', 'uas.xml'),
    '-i',
    UAS.ip,
    '-p',
    String(UAS.port),
    '-mi',
    UAS.ip,
    '-mp',
    '16000',
    '-max_socket',
    '4096',
  ]);
}
let uacN = 0;
export function uac(tag, host, service, calls, rate = 10) {
  const k = uacN++; // each sipp needs its own SIP and media ports
  return sipp(tag, [
    `${host.ip}:5060`,
    '-sf',
    join(HERE, 'scenarios', 'uac.xml'),
    '-s',
    service,
    '-i',
    UAC_IP,
    '-p',
    String(5070 + k),
    '-mi',
    UAC_IP,
    '-mp',
    String(17000 + 10 * k),
    '-m',
    String(calls),
    '-l',
    String(calls),
    '-r',
    String(rate),
    '-max_socket',
    '4096',
  ]);
}
/** psql as the superuser; returns stdout. */
export function psql(sql, extra = []) {
  return execFileSync(
    'psql',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(PG.port),
      '-U',
      'postgres',
      '-d',
      PG.db,
      '-v',
      'ON_ERROR_STOP=1',
      '-qAt',
      ...extra,
      '-c',
      sql,
    ],
    { encoding: 'utf8' },
  );
}
export function sh(cmd) {
  return execFileSync('bash', ['-c', cmd], { encoding: 'utf8' });
}

/** UDP relay on `from` (ip:port) to `to`: stands in for a floating signalling IP / record-routing proxy,
 * because sipp sends in-dialog responses to the address it first talked to, not to the packet source. */
export async function relay(fromIp, fromPort, toIp, toPort) {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  s.on('message', (m) => s.send(m, toPort, toIp));
  await new Promise((r) => s.bind(fromPort, fromIp, r));
  return s;
}
