import type { ExecOptions, ExecResult } from './connection.ts';
import { SshConnection } from './connection.ts';
import { SshConnectionLost } from './errors.ts';
import type { SshLimits, SshTarget } from './options.ts';
import { sshLimits } from './options.ts';

/**
 * The SSH client the controllers use: one connection per (host, port, user), opened on first use, reused by
 * every later call, and re-opened when it has dropped. Connecting is shared: concurrent first calls wait on the
 * same handshake.
 */
export class SshPool {
  private readonly limits: SshLimits;
  private readonly connections = new Map<string, Promise<SshConnection>>();
  /** How many connections have been opened (each a TCP connection and a handshake). */
  opened = 0;

  constructor(
    limits: Partial<SshLimits> = {},
    private readonly open: (target: SshTarget, limits: SshLimits) => Promise<SshConnection> = (t, l) =>
      SshConnection.open(t, l),
  ) {
    this.limits = sshLimits(limits);
  }

  /** An open connection to `target`: the pooled one, or a new one when there is none or it dropped. */
  async connection(target: SshTarget): Promise<SshConnection> {
    const key = `${target.user}@${target.host}:${target.port}`;
    const pending = this.connections.get(key);
    if (pending) {
      const conn = await pending.catch(() => undefined);
      // Credentials may have changed in the topology: a connection made with others is not reused.
      if (conn?.isOpen && sameCredentials(conn.target, target)) return conn;
      conn?.close();
      if (this.connections.get(key) !== pending) return this.connection(target);
    }
    const next = this.open(target, this.limits);
    this.opened += 1;
    this.connections.set(key, next);
    next.catch(() => {
      if (this.connections.get(key) === next) this.connections.delete(key);
    });
    return next;
  }

  /**
   * Runs a command (see {@link SshConnection.exec}). A connection found dropped before the command could start
   * is re-opened once; a command that was running when the connection dropped is not run again.
   */
  async exec(target: SshTarget, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.withRetry(target, (c) => c.exec(command, opts));
  }

  /** {@link exec} that throws `MW_ERR_SSH_COMMAND_FAILED` on a non-zero exit. */
  async execOk(target: SshTarget, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.withRetry(target, (c) => c.execOk(command, opts));
  }

  async put(target: SshTarget, localPath: string, remotePath: string, timeoutMs?: number): Promise<void> {
    return this.withRetry(target, (c) => c.put(localPath, remotePath, timeoutMs));
  }

  async get(target: SshTarget, remotePath: string, localPath: string, timeoutMs?: number): Promise<void> {
    return this.withRetry(target, (c) => c.get(remotePath, localPath, timeoutMs));
  }

  /** Closes every connection. */
  close(): void {
    for (const p of this.connections.values()) void p.then((c) => c.close()).catch(() => {});
    this.connections.clear();
  }

  private async withRetry<T>(target: SshTarget, fn: (c: SshConnection) => Promise<T>): Promise<T> {
    const conn = await this.connection(target);
    try {
      return await fn(conn);
    } catch (err) {
      // Only a connection already known dead when the call began is retried: then nothing ran remotely.
      if (err instanceof SshConnectionLost && err.details?.beforeStart === true)
        return fn(await this.connection(target));
      throw err;
    }
  }
}

function sameCredentials(a: SshTarget, b: SshTarget): boolean {
  return (
    a.password === b.password &&
    a.privateKey === b.privateKey &&
    a.passphrase === b.passphrase &&
    a.hostKeyFingerprint === b.hostKeyFingerprint
  );
}
