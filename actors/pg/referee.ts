import { spawn } from 'node:child_process';
import { connect } from 'node:net';

/**
 * The referee (04-postgres.md): an address the controller must reach to trust its own view of the network. `host:port`
 * is a TCP connect; a bare `host` an ICMP echo through the system's `ping` (raw sockets need privileges Node does
 * not have). Tests and shipped examples use loopback only; an unreachable referee is a closed loopback port.
 */
export type RefereeCheck = () => Promise<boolean>;

export function refereeCheck(address: string, timeoutMs = 800): RefereeCheck {
  const m = /^(.*):(\d+)$/.exec(address);
  if (m) {
    const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
    const port = Number(m[2]);
    return () => tcpReachable(host, port, timeoutMs);
  }
  return () => pingReachable(address, timeoutMs);
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function pingReachable(host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const child = spawn('ping', ['-c', '1', '-W', seconds, '-n', host], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}
