/** Where and how the SSH layer connects, and its deadlines, compiled into a fully defaulted form before use. */

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** A private key (OpenSSH or PEM text). */
  privateKey?: string;
  passphrase?: string;
  /**
   * Pin the server's host key: `SHA256:<base64>` as `ssh-keygen -l` prints it. Without it any host key is
   * accepted (the topology did not give one).
   */
  hostKeyFingerprint?: string;
}

export interface SshLimits {
  /** TCP connect, handshake and authentication together. */
  connectTimeoutMs: number;
  /** Default deadline of a command (each call may give its own). */
  execTimeoutMs: number;
  /** Default deadline of an SFTP transfer. */
  transferTimeoutMs: number;
  /** stdout and stderr are each kept up to this many bytes (the rest is counted and dropped). */
  maxOutputBytes: number;
  /** Keepalives let a connection to a host that vanished be noticed while idle. */
  keepaliveIntervalMs: number;
}

export const DEFAULT_SSH_LIMITS: SshLimits = {
  connectTimeoutMs: 5_000,
  execTimeoutMs: 60_000,
  transferTimeoutMs: 10 * 60_000,
  maxOutputBytes: 1024 * 1024,
  keepaliveIntervalMs: 5_000,
};

export function sshLimits(partial: Partial<SshLimits> = {}): SshLimits {
  return { ...DEFAULT_SSH_LIMITS, ...partial };
}

/** `user@host:port`: how messages name an endpoint (never with a credential). */
export function endpoint(t: Pick<SshTarget, 'host' | 'port' | 'user'>): string {
  return `${t.user}@${t.host}:${t.port}`;
}
