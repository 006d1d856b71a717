import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { freePort } from './ports.ts';
import { ManagedProcess } from './process.ts';
import { tempDir } from './temp.ts';

/**
 * A real snmpd (the net-snmp agent) on 127.0.0.1 and a free UDP port, in the foreground, answering v2c reads with
 * `community` from loopback only. `sysLocation.0` (1.3.6.1.2.1.1.6.0) is `location`: a value a probe can expect.
 */

export interface Snmpd {
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export const SYS_LOCATION = '1.3.6.1.2.1.1.6.0';

export async function startSnmpd(o: { community: string; location: string }): Promise<Snmpd> {
  const bin = requireBinary('snmpd');
  const port = await freePort();
  const dir = tempDir('snmpd');
  const conf = join(dir.path, 'snmpd.conf');
  writeFileSync(conf, [`rocommunity ${o.community} 127.0.0.1`, `sysLocation ${o.location}`, ''].join('\n'));
  const proc = new ManagedProcess(
    'snmpd',
    bin,
    [
      ...['-f', '-Lo', '-C', '-c', conf, '-M', '/dev/null', '-m', ''],
      ...['-p', join(dir.path, 'pid'), `udp:127.0.0.1:${port}`],
    ],
    { env: { ...process.env, SNMP_PERSISTENT_DIR: join(dir.path, 'persist') } },
  );
  await proc.waitForLine(/NET-SNMP version/);
  return {
    port,
    process: proc,
    stop: async () => {
      await proc.stop('SIGTERM');
      dir.cleanup();
    },
  };
}
