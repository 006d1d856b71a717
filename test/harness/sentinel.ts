import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { freePort } from './ports.ts';
import { ManagedProcess } from './process.ts';
import { redisArgs } from './redis.ts';
import { tempDir } from './temp.ts';

/**
 * Redis with Sentinel on 127.0.0.1 (02-runtime.md "Epoch safety with Sentinel"): a primary, a replica, and three
 * sentinels watching them under the name `mymaster` (quorum 2, down after 1 s), each on a free port.
 */
export interface SentinelSetup {
  name: string;
  sentinels: { host: string; port: number }[];
  /** The Redis servers by role at the start: `primary` and `replica`. */
  servers: Record<'primary' | 'replica', { port: number; process: ManagedProcess }>;
  stop(): Promise<void>;
}

export async function startSentinels(): Promise<SentinelSetup> {
  const server = requireBinary('redis-server');
  const sentinelBin = requireBinary('redis-sentinel');
  const dir = tempDir('sentinel');
  const redis = async (role: 'primary' | 'replica', primaryPort?: number) => {
    const port = await freePort();
    const args = redisArgs(port, dir.path);
    if (primaryPort !== undefined) args.push('--replicaof', '127.0.0.1', String(primaryPort));
    const p = new ManagedProcess(`redis ${role}`, server, args);
    await p.waitForLine(/Ready to accept connections/);
    return { port, process: p };
  };
  const primary = await redis('primary');
  const replica = await redis('replica', primary.port);
  await replica.process.waitForLine(/MASTER <-> REPLICA sync: Finished/);
  const sentinels: { host: string; port: number; process: ManagedProcess }[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir.path, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir.path}`,
        `sentinel monitor mymaster 127.0.0.1 ${primary.port} 2`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 10000',
        'sentinel parallel-syncs mymaster 1',
        '',
      ].join('\n'),
    );
    const p = new ManagedProcess(`sentinel ${i}`, sentinelBin, [conf]);
    await p.waitForLine(/\+monitor master mymaster/);
    sentinels.push({ host: '127.0.0.1', port, process: p });
  }
  return {
    name: 'mymaster',
    sentinels: sentinels.map(({ host, port }) => ({ host, port })),
    servers: { primary, replica },
    stop: async () => {
      for (const s of sentinels) await s.process.stop('SIGTERM');
      await replica.process.stop('SIGTERM');
      await primary.process.stop('SIGTERM');
      dir.cleanup();
    },
  };
}
