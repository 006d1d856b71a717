import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { HarnessError } from './errors.ts';
import { descendantsOf } from './pids.ts';
import { postgresUser } from './postgres.ts';
import { ManagedProcess, run } from './process.ts';
import { freePort } from './ports.ts';
import { tempDir } from './temp.ts';

/**
 * A real OpenSSH server for tests, on 127.0.0.1 and a free port, with its own config, host key and authorised
 * keys in a temporary directory. It authenticates the existing `postgres` system user (the harness creates no
 * user), by key and by password.
 *
 * The password is never set on the system. With `UsePAM no`, sshd reads the password hash from /etc/shadow and
 * refuses every method for an account whose hash starts with `!` (locked, as `postgres` is). So sshd runs in a
 * private mount namespace (`unshare --mount`) where a copy of /etc/shadow, with a fresh hash for `postgres`, is
 * bind-mounted over the real one: the change is visible to this sshd only and vanishes with it.
 */

export interface SshServer {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** The password sshd accepts for `user` (in its private view of /etc/shadow only). */
  password: string;
  /** OpenSSH private key (ed25519) authorised for `user`. */
  privateKey: string;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** A directory `user` owns, for files the tests transfer. */
  dir: string;
  /**
   * The sessions' TMPDIR (sshd's `SetEnv`), this server's own: a test checks what a remote command left behind there
   * without seeing other test files' servers, which share the machine's /tmp.
   */
  tmp: string;
  process: ManagedProcess;
  /** Starts the server again on the same port, keys and password (after {@link kill}: the host is back). */
  restart(): Promise<void>;
  /** SIGKILL the processes serving the open connections (they drop; the listener stays). */
  dropSessions(): void;
  /** SIGKILL the listener and every session it forked (its connections drop). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<SshServer> {
  const sshd = requireBinary('sshd');
  const keygen = requireBinary('ssh-keygen');
  const unshare = requireBinary('unshare');
  const user = 'postgres';
  const owner = postgresUser();
  const dir = tempDir('sshd', owner);
  chmodSync(dir.path, 0o755);
  const hostKey = join(dir.path, 'host_ed25519');
  const clientKey = join(dir.path, 'client_ed25519');
  await run('ssh-keygen', keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'mware-test-host', '-f', hostKey]);
  await run('ssh-keygen', keygen, [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'mware-test-client',
    '-f',
    clientKey,
  ]);
  const fingerprint = (await run('ssh-keygen', keygen, ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`])).split(
    ' ',
  )[1];
  if (!fingerprint?.startsWith('SHA256:')) throw new HarnessError(`no host key fingerprint: ${fingerprint}`);
  writeFileSync(join(dir.path, `${user}.keys`), readFileSync(`${clientKey}.pub`), { mode: 0o644 });

  const password = randomBytes(12).toString('base64url');
  const hash = (await run('openssl', requireBinary('openssl'), ['passwd', '-6', password])).trim();
  const shadow = join(dir.path, 'shadow');
  writeFileSync(
    shadow,
    readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .map((l) =>
        l.startsWith(`${user}:`)
          ? l
              .split(':')
              .map((f, i) => (i === 1 ? hash : f))
              .join(':')
          : l,
      )
      .join('\n'),
    { mode: 0o640 },
  );

  const files = join(dir.path, 'files');
  mkdirSync(files);
  chownSync(files, owner.uid, owner.gid);
  const tmp = join(dir.path, 'tmp');
  mkdirSync(tmp);
  chownSync(tmp, owner.uid, owner.gid);
  // sshd's privilege-separation directory; Debian creates it at boot (systemd-tmpfiles), not at install.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const port = await freePort();
  const config = join(dir.path, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1`,
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir.path, 'sshd.pid')}`,
      `AuthorizedKeysFile ${dir.path}/%u.keys`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      `AllowUsers ${user}`,
      'Subsystem sftp internal-sftp',
      `SetEnv TMPDIR=${tmp}`,
      'LogLevel VERBOSE',
      // Fail fast on the tests' wrong credentials instead of lingering.
      'MaxAuthTries 3',
      'LoginGraceTime 20',
      '',
    ].join('\n'),
  );
  const launch = async (): Promise<ManagedProcess> => {
    const p = new ManagedProcess('sshd', unshare, [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$1" /etc/shadow && exec "$2" -D -e -f "$3"',
      'sh',
      shadow,
      sshd,
      config,
    ]);
    await p.waitForLine(/Server listening on 127\.0\.0\.1 port/, 15_000);
    return p;
  };
  let proc = await launch();
  // Each connection is served by a child of the listener (the privileged monitor) and its unprivileged child, both
  // after setsid(), so signalling the listener's process group would miss them: find them by parent pid. Killing
  // only the monitor would leave the user's child holding the socket.
  const dropSessions = () => {
    for (const pid of proc.pid === undefined ? [] : descendantsOf(proc.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const kill = async () => {
    dropSessions();
    await proc.stop('SIGKILL');
  };
  const server: SshServer = {
    host: '127.0.0.1',
    port,
    user,
    password,
    privateKey: readFileSync(clientKey, 'utf8'),
    hostKeyFingerprint: fingerprint,
    dir: files,
    tmp,
    process: proc,
    restart: async () => {
      proc = await launch();
      server.process = proc;
    },
    dropSessions,
    kill,
    stop: async () => {
      await kill();
      dir.cleanup();
    },
  };
  return server;
}
