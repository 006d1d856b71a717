import { errorKind, registerErrorClass } from '../errors.ts';

/**
 * Failures of the SSH layer. Messages name the endpoint (`user@host:port`) and what failed, never a password, a
 * key or the command text (a command may carry a secret, such as a `PGPASSWORD=` prefix).
 */

/** The server refused the credentials (password or key), or accepts none of the methods offered. */
export class SshAuthFailed extends errorKind('MW_ERR_SSH_AUTH') {}
registerErrorClass(SshAuthFailed);

/**
 * The configured private key cannot be read (malformed, cut short, an unsupported format, or encrypted with another
 * passphrase): refused before any connection is made. The message gives the reader's reason, never the key.
 */
export class SshKeyUnusable extends errorKind('MW_ERR_SSH_KEY') {}
registerErrorClass(SshKeyUnusable);

/** No SSH server could be reached: the port refuses, no route, the name does not resolve. */
export class SshUnreachable extends errorKind('MW_ERR_SSH_UNREACHABLE') {}
registerErrorClass(SshUnreachable);

/**
 * A deadline passed: connecting (`details.phase: 'connect'`: the host is silent), a command (`'exec'`: the remote
 * command was killed) or a transfer (`'transfer'`).
 */
export class SshTimeout extends errorKind('MW_ERR_SSH_TIMEOUT') {}
registerErrorClass(SshTimeout);

/** The server's host key is not the pinned one: the connection is refused before any credential is sent. */
export class SshHostKeyMismatch extends errorKind('MW_ERR_SSH_HOSTKEY') {}
registerErrorClass(SshHostKeyMismatch);

/** An established connection dropped (or failed) while a command or a transfer was using it. */
export class SshConnectionLost extends errorKind('MW_ERR_SSH_CONNECTION_LOST') {}
registerErrorClass(SshConnectionLost);

/** A remote command ran and exited non-zero (or by a signal); `details` has the exit code and stderr's tail. */
export class SshCommandFailed extends errorKind('MW_ERR_SSH_COMMAND_FAILED') {}
registerErrorClass(SshCommandFailed);

/** An SFTP transfer failed (no such file, permission denied, …). */
export class SshTransferFailed extends errorKind('MW_ERR_SSH_SFTP') {}
registerErrorClass(SshTransferFailed);
