import type { ClientChannel, SFTPWrapper } from 'ssh2';
import ssh2 from 'ssh2';
import { scrubber } from '../redaction.ts';
import {
  SshAuthFailed,
  SshKeyUnusable,
  SshCommandFailed,
  SshConnectionLost,
  SshHostKeyMismatch,
  SshTimeout,
  SshTransferFailed,
  SshUnreachable,
} from './errors.ts';
import { fingerprintOf, matchesPin } from './host-key.ts';
import type { SshLimits, SshTarget } from './options.ts';
import { endpoint } from './options.ts';

/** What a remote command left behind. */
export interface ExecResult {
  /** The exit code, or null when the command ended by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Whether stdout or stderr went past `maxOutputBytes` (the kept part is the beginning). */
  truncated: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Written to the command's stdin, then EOF. */
  stdin?: string | Buffer;
}

type State = 'open' | 'closed';

/**
 * One authenticated SSH connection. Every call has a deadline; a failure comes back as one of the SSH error
 * kinds, with the credentials scrubbed out of every message.
 */
export class SshConnection {
  private state: State = 'open';
  private closeReason: Error | undefined;

  private constructor(
    private readonly client: ssh2.Client,
    readonly target: SshTarget,
    private readonly limits: SshLimits,
    private readonly scrub: (s: string) => string,
  ) {
    client.on('close', () => {
      this.state = 'closed';
    });
    client.on('error', (err) => {
      this.closeReason = err;
      this.state = 'closed';
    });
  }

  /** Connects and authenticates within `limits.connectTimeoutMs`. */
  static open(target: SshTarget, limits: SshLimits): Promise<SshConnection> {
    const scrub = scrubber([target.password, target.passphrase, target.privateKey].filter(isString));
    const where = endpoint(target);
    const details = { host: target.host, port: target.port, user: target.user };
    if (target.privateKey !== undefined) {
      const parsed = ssh2.utils.parseKey(target.privateKey, target.passphrase);
      if (parsed instanceof Error)
        return Promise.reject(
          new SshKeyUnusable(`ssh ${where}: the private key cannot be read: ${scrub(parsed.message)}`, {
            details,
          }),
        );
    }
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let hostKeyRefused: string | undefined;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners('ready');
        client.on('error', () => {});
        client.destroy();
        reject(err);
      };
      // ssh2's readyTimeout covers the handshake; this one also bounds DNS and a TCP connect that never answers.
      const timer = setTimeout(
        () =>
          fail(
            new SshTimeout(`ssh ${where}: no connection within ${limits.connectTimeoutMs} ms`, {
              details: { ...details, phase: 'connect', timeoutMs: limits.connectTimeoutMs },
            }),
          ),
        limits.connectTimeoutMs,
      );
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(new SshConnection(client, target, limits, scrub));
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (hostKeyRefused !== undefined) {
          fail(
            new SshHostKeyMismatch(
              `ssh ${where}: host key ${hostKeyRefused} is not the pinned ${target.hostKeyFingerprint ?? ''}; refused`,
              { details: { ...details, presented: hostKeyRefused } },
            ),
          );
        } else if (err.level === 'client-authentication') {
          fail(
            new SshAuthFailed(`ssh ${where}: authentication refused`, {
              details,
              cause: clean(err, scrub),
            }),
          );
        } else if (err.level === 'client-timeout') {
          fail(
            new SshTimeout(`ssh ${where}: no handshake within ${limits.connectTimeoutMs} ms`, {
              details: { ...details, phase: 'connect', timeoutMs: limits.connectTimeoutMs },
            }),
          );
        } else if (err.level === 'client-socket' || err.code !== undefined) {
          fail(
            new SshUnreachable(`ssh ${where}: ${scrub(err.message)}`, {
              details: { ...details, reason: err.code ?? 'socket' },
              cause: clean(err, scrub),
            }),
          );
        } else {
          fail(
            new SshConnectionLost(`ssh ${where}: connection failed: ${scrub(err.message)}`, {
              details,
              cause: clean(err, scrub),
            }),
          );
        }
      });
      client.on('close', () =>
        fail(new SshUnreachable(`ssh ${where}: the server closed the connection`, { details })),
      );
      const pin = target.hostKeyFingerprint;
      try {
        connect();
      } catch (err) {
        // ssh2 throws at once on options it cannot use; that must come back as one of our kinds, scrubbed.
        fail(
          new SshConnectionLost(`ssh ${where}: cannot connect: ${scrub((err as Error).message)}`, {
            details,
            cause: clean(err as Error, scrub),
          }),
        );
      }
      function connect(): void {
        client.connect({
          host: target.host,
          port: target.port,
          username: target.user,
          ...(target.password !== undefined && { password: target.password }),
          ...(target.privateKey !== undefined && { privateKey: target.privateKey }),
          ...(target.passphrase !== undefined && { passphrase: target.passphrase }),
          readyTimeout: limits.connectTimeoutMs,
          keepaliveInterval: limits.keepaliveIntervalMs,
          keepaliveCountMax: 3,
          // A pinned key that does not match stops the handshake before any credential is sent.
          hostVerifier: (key: Buffer) => {
            if (pin === undefined || matchesPin(key, pin)) return true;
            hostKeyRefused = fingerprintOf(key);
            return false;
          },
        });
      }
    });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  private get where(): string {
    return endpoint(this.target);
  }

  /** `beforeStart`: the failure came before the remote side could run anything, so the call may be retried. */
  private lost(what: string, err?: Error, beforeStart = false): SshConnectionLost {
    const reason = err ?? this.closeReason;
    return new SshConnectionLost(
      `ssh ${this.where}: connection lost during ${what}${reason ? `: ${this.scrub(reason.message)}` : ''}`,
      {
        details: { host: this.target.host, port: this.target.port, user: this.target.user, beforeStart },
        ...(reason && { cause: clean(reason, this.scrub) }),
      },
    );
  }

  /**
   * Runs `command` through the remote user's shell. Resolves with its exit code and output whatever the code;
   * past the deadline the remote process group is sent SIGKILL, the channel is closed and an {@link SshTimeout}
   * (phase `exec`) is thrown.
   */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.limits.execTimeoutMs;
    const max = this.limits.maxOutputBytes;
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(this.lost('exec', undefined, true));
      let settled = false;
      let channel: ClientChannel | undefined;
      const out = { stdout: new Capture(max), stderr: new Capture(max) };
      let code: number | null = null;
      let signal: string | null = null;
      const onClientClose = () => settle(this.lost('exec'));
      const settle = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.client.removeListener('close', onClientClose);
        if (err) reject(err);
        else
          resolve({
            code,
            signal,
            stdout: out.stdout.text(),
            stderr: out.stderr.text(),
            truncated: out.stdout.truncated || out.stderr.truncated,
          });
      };
      const timer = setTimeout(() => {
        try {
          if (channel) killRemote(channel);
          channel?.close();
        } catch {
          // the channel or the connection is already gone
        }
        settle(
          new SshTimeout(`ssh ${this.where}: command did not finish within ${timeoutMs} ms; killed`, {
            details: {
              host: this.target.host,
              port: this.target.port,
              phase: 'exec',
              timeoutMs,
              stderrTail: this.scrub(out.stderr.text().slice(-500)),
            },
          }),
        );
      }, timeoutMs);
      this.client.once('close', onClientClose);
      try {
        this.client.exec(command, (err, ch) => {
          if (err) return settle(this.lost('exec', err, true));
          channel = ch;
          ch.on('data', (d: Buffer) => out.stdout.push(d));
          ch.stderr.on('data', (d: Buffer) => out.stderr.push(d));
          ch.on('exit', (c: number | null, s?: string) => {
            code = c;
            signal = s ?? null;
          });
          ch.on('close', () => settle(undefined));
          if (opts.stdin !== undefined) ch.end(opts.stdin);
          else ch.end();
        });
      } catch (err) {
        settle(this.lost('exec', err instanceof Error ? err : undefined));
      }
    });
  }

  /** {@link exec}, and an {@link SshCommandFailed} when the command exits non-zero or by a signal. */
  async execOk(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(command, opts);
    if (r.code === 0) return r;
    const tail = this.scrub(r.stderr.trim().slice(-500));
    throw new SshCommandFailed(
      `ssh ${this.where}: command ${r.signal ? `killed by ${r.signal}` : `exited with ${r.code}`}${tail ? `: ${tail}` : ''}`,
      {
        details: {
          host: this.target.host,
          port: this.target.port,
          code: r.code,
          signal: r.signal,
          stderr: tail,
        },
      },
    );
  }

  /** Copies a local file to the server over SFTP. */
  put(localPath: string, remotePath: string, timeoutMs = this.limits.transferTimeoutMs): Promise<void> {
    return this.transfer('put', timeoutMs, (sftp, done) => sftp.fastPut(localPath, remotePath, done));
  }

  /** Copies a file from the server over SFTP. */
  get(remotePath: string, localPath: string, timeoutMs = this.limits.transferTimeoutMs): Promise<void> {
    return this.transfer('get', timeoutMs, (sftp, done) => sftp.fastGet(remotePath, localPath, done));
  }

  private transfer(
    what: 'put' | 'get',
    timeoutMs: number,
    run: (sftp: SFTPWrapper, done: (err?: Error | null) => void) => void,
  ): Promise<void> {
    const details = { host: this.target.host, port: this.target.port, user: this.target.user };
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(this.lost(`sftp ${what}`, undefined, true));
      let settled = false;
      let session: SFTPWrapper | undefined;
      const onClientClose = () => settle(this.lost(`sftp ${what}`));
      const settle = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.client.removeListener('close', onClientClose);
        session?.end();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(
            new SshTimeout(`ssh ${this.where}: sftp ${what} did not finish within ${timeoutMs} ms`, {
              details: { ...details, phase: 'transfer', timeoutMs },
            }),
          ),
        timeoutMs,
      );
      this.client.once('close', onClientClose);
      this.client.sftp((err, sftp) => {
        if (err) return settle(this.lost(`sftp ${what}`, err, true));
        session = sftp;
        if (settled) return sftp.end();
        run(sftp, (e) => {
          if (!e) return settle(undefined);
          settle(
            new SshTransferFailed(`ssh ${this.where}: sftp ${what} failed: ${this.scrub(e.message)}`, {
              details,
              cause: clean(e, this.scrub),
            }),
          );
        });
      });
    });
  }

  close(): void {
    this.state = 'closed';
    this.client.end();
  }
}

/**
 * Sends SIGKILL to the command: OpenSSH delivers a `signal` channel request to the session's process group (the
 * command runs under setsid), so a shell and its children go together. ssh2's `ClientChannel.signal()` sends
 * nothing once stdin has been closed (it checks `writable`), and stdin is closed right after the command starts
 * so that commands reading it see EOF; hence the request goes through the channel's protocol directly (ssh2 is
 * pinned to an exact version for this).
 */
function killRemote(channel: ClientChannel): void {
  const ch = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?(id: number, name: string): void } };
  };
  const id = ch.outgoing?.id;
  const state = ch.outgoing?.state;
  // `eof` is this side's stdin closed: the command is still running.
  if ((state === 'open' || state === 'eof') && id !== undefined) ch._client?._protocol?.signal?.(id, 'KILL');
}

/** Keeps the first `max` bytes of a stream and counts the rest. */
class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const room = this.max - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept !== chunk) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function isString(v: string | undefined): v is string {
  return v !== undefined && v !== '';
}

/** ssh2's error, as a plain cause with the secrets scrubbed out (its own fields may echo what it was given). */
function clean(err: Error & { code?: unknown; level?: unknown }, scrub: (s: string) => string): Error {
  const e = new Error(scrub(err.message));
  e.name = err.name;
  return Object.assign(e, {
    ...(typeof err.code === 'string' && { code: err.code }),
    ...(typeof err.level === 'string' && { level: err.level }),
  });
}
