import { requireBinary } from './binaries.ts';
import { ManagedProcess } from './process.ts';
import { freePort } from './ports.ts';
import { tempDir } from './temp.ts';

/** A real redis-server on 127.0.0.1 and a free port, no persistence, stopped by `stop()`. */
export interface RedisServer {
  port: number;
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** The arguments of a throwaway redis-server on 127.0.0.1: `port`, nothing saved, files in `dir`. */
export function redisArgs(port: number, dir: string): string[] {
  return [
    ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes'],
    ...['--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
  ];
}

export async function startRedis(): Promise<RedisServer> {
  const bin = requireBinary('redis-server');
  const port = await freePort();
  const dir = tempDir('redis');
  const proc = new ManagedProcess('redis-server', bin, redisArgs(port, dir.path));
  await proc.waitForLine(/Ready to accept connections/);
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    process: proc,
    stop: async () => {
      await proc.stop('SIGTERM');
      dir.cleanup();
    },
  };
}
