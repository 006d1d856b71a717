/** The SSH layer: commands with deadlines and SFTP transfers over pooled connections (see `pool.ts`). */
export { SshConnection } from './connection.ts';
export type { ExecOptions, ExecResult } from './connection.ts';
export * from './errors.ts';
export { fingerprintOf, matchesPin } from './host-key.ts';
export { DEFAULT_SSH_LIMITS, endpoint, sshLimits } from './options.ts';
export type { SshLimits, SshTarget } from './options.ts';
export { SshPool } from './pool.ts';
