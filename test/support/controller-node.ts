import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import type { ApiNode } from './api-node.ts';
import { startApiNode } from './api-node.ts';
import { freePort } from '../harness/ports.ts';

/**
 * A real node (startApiNode) whose role has both controllers and no real server behind them (no PostgreSQL, no
 * sshd): a `pg_controller` cluster `general` whose two servers are closed loopback ports (the controller reports them
 * down and has no primary), and a `backup_controller` whose database host is a loopback listener that accepts and
 * never speaks (a run hangs in its SSH handshake until the probe's deadline, about 3 s, then fails). Its window is
 * not now, so the schedule starts nothing by itself.
 */

/** The passwords of the topology: no answer may contain one. */
export const CONTROLLER_SECRETS = {
  ssh: 'ssh-pwd-never-shown-4b1d',
  replica: 'replica-pwd-never-shown-77aa',
  storage: 'storage-pwd-never-shown-c0de',
};

export interface ControllerNode {
  n: ApiNode;
  /** The pg servers' names (`127.0.0.1:<port>`). */
  servers: string[];
  stop(): Promise<void>;
}

export async function startControllerNode(): Promise<ControllerNode> {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentPort = (silent.address() as { port: number }).port;
  const [pg1, pg2, ssh1, ssh2, referee] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const h = new Date().getHours();
  const n = await startApiNode({
    role: {
      pg_controller: [
        {
          key: 'general',
          referee: `127.0.0.1:${referee}`,
          ssh_user: 'postgres',
          ssh_pwd: CONTROLLER_SECRETS.ssh,
          pg_replica_user: 'era_replica',
          pg_replica_pwd: CONTROLLER_SECRETS.replica,
          pg_ctl_command: '/usr/lib/postgresql/15/bin/pg_ctl',
          pg_basebackup_command: '/usr/lib/postgresql/15/bin/pg_basebackup',
          pg_data_folder: '/tmp/mware-test-never-used',
          servers: [
            { ssh_host: '127.0.0.1', ssh_port: ssh1, pg_host: '127.0.0.1', pg_port: pg1 },
            { ssh_host: '127.0.0.1', ssh_port: ssh2, pg_host: '127.0.0.1', pg_port: pg2 },
          ],
        },
      ],
      backup_controller: {
        hours_interval: [(h + 2) % 24, (h + 3) % 24],
        storage_ssh_host: '127.0.0.1',
        storage_ssh_port: ssh1,
        storage_ssh_user: 'storage',
        storage_ssh_pwd: CONTROLLER_SECRETS.storage,
        storage_ssh_path: 'backup/dow_%weekday',
        pgdb: [
          {
            servers: [{ ssh_host: '127.0.0.1', pg_host: '127.0.0.1' }],
            ssh_port: silentPort,
            ssh_user: 'postgres',
            ssh_pwd: CONTROLLER_SECRETS.ssh,
            pg_port: pg1,
            pg_replica_user: 'era_replica',
            pg_replica_pwd: CONTROLLER_SECRETS.replica,
          },
        ],
      },
    },
  });
  return {
    n,
    servers: [`127.0.0.1:${pg1}`, `127.0.0.1:${pg2}`],
    stop: async () => {
      await n.stop();
      for (const s of sockets) s.destroy();
      silent.close();
    },
  };
}
