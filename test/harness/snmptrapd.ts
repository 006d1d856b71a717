import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { freePort } from './ports.ts';
import { ManagedProcess } from './process.ts';
import { tempDir } from './temp.ts';

/**
 * A real snmptrapd (net-snmp) on 127.0.0.1 and a free UDP port, in the foreground, logging one line per trap to
 * its stdout: `TRAP <security>|<varbinds tab-separated>`, OIDs numeric. It accepts v2c traps with `community` and
 * v3 authPriv (SHA/AES) traps from `v3.user` of the sender engine `v3.engineId`.
 */

export interface ReceivedTrap {
  /** `TRAP2, SNMP v2c, community public` or `TRAP2, SNMP v3, user u, context `. */
  security: string;
  /** snmpTrapOID.0, numeric without the leading dot. */
  trapOid: string;
  /** Varbind OID (no leading dot) → value (strings unquoted, integers as numbers). */
  varbinds: Map<string, string | number>;
}

export interface SnmpTrapd {
  port: number;
  process: ManagedProcess;
  /** Every trap logged so far. */
  traps(): ReceivedTrap[];
  /** Resolves once `n` traps have been logged in all. */
  waitForTraps(n: number, timeoutMs?: number): Promise<ReceivedTrap[]>;
  stop(): Promise<void>;
}

export interface SnmpTrapdOptions {
  community: string;
  v3: { engineId: string; user: string; authKey: string; privKey: string };
}

const TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';

export async function startSnmpTrapd(o: SnmpTrapdOptions): Promise<SnmpTrapd> {
  const bin = requireBinary('snmptrapd');
  const port = await freePort();
  const dir = tempDir('snmptrapd');
  const conf = join(dir.path, 'snmptrapd.conf');
  writeFileSync(
    conf,
    [
      `authCommunity log ${o.community}`,
      `createUser -e 0x${o.v3.engineId} ${o.v3.user} SHA ${o.v3.authKey} AES ${o.v3.privKey}`,
      `authUser log ${o.v3.user} priv`,
      '',
    ].join('\n'),
  );
  const proc = new ManagedProcess(
    'snmptrapd',
    bin,
    [
      ...['-f', '-Lo', '-C', '-c', conf, '-On', '-m', '', '-M', '/dev/null'],
      ...['-p', join(dir.path, 'pid'), '-F', 'TRAP %P|%v\n', `udp:127.0.0.1:${port}`],
    ],
    { env: { ...process.env, SNMP_PERSISTENT_DIR: join(dir.path, 'persist') } },
  );
  await proc.waitForLine(/NET-SNMP version/);
  const traps = () => proc.lines.filter((l) => l.startsWith('TRAP ')).map(parseTrapLine);
  return {
    port,
    process: proc,
    traps,
    waitForTraps: async (n, timeoutMs = 5_000) => {
      const re = /^TRAP /;
      const end = performance.now() + timeoutMs;
      while (proc.lines.filter((l) => re.test(l)).length < n) {
        if (performance.now() > end)
          throw new Error(
            `snmptrapd: ${traps().length} traps, not ${n}, within ${timeoutMs} ms\n${proc.tail()}`,
          );
        await new Promise((r) => setTimeout(r, 20));
      }
      return traps();
    },
    stop: async () => {
      await proc.stop('SIGTERM');
      dir.cleanup();
    },
  };
}

/** One `TRAP <security>|<varbinds>` line. */
export function parseTrapLine(line: string): ReceivedTrap {
  const bar = line.indexOf('|');
  const security = line.slice(5, bar);
  const varbinds = new Map<string, string | number>();
  for (const vb of line.slice(bar + 1).split('\t')) {
    const m = /^\.?([\d.]+) = ([A-Za-z0-9 -]+): ?(.*)$/s.exec(vb);
    if (!m) continue;
    const [, oid, type, raw] = m as unknown as [string, string, string, string];
    varbinds.set(oid, valueOf(type, raw));
  }
  const trapOid = String(varbinds.get(TRAP_OID) ?? '').replace(/^\./, '');
  return { security, trapOid, varbinds };
}

function valueOf(type: string, raw: string): string | number {
  if (type === 'INTEGER') return Number(raw);
  // snmptrapd shows an OCTET STRING holding non-ASCII bytes (UTF-8 text) in hex.
  if (type === 'Hex-STRING') return Buffer.from(raw.replace(/\s+/g, ''), 'hex').toString('utf8');
  if (type === 'STRING' && raw.startsWith('"') && raw.endsWith('"'))
    return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  return raw;
}
