import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChildOutput } from '../../src/child-output.ts';
import type { SshPool } from '../../src/ssh/index.ts';
import { runChild } from './child.ts';
import type { ArchiveLimits } from './pg-archive.ts';
import type { StepRecorder, StepResult } from './steps.ts';
import { zipFolder } from './sync-zip.ts';
import type { BackupConfig, Storage } from './targets.ts';
import { expandPath, storageOf } from './targets.ts';
import { uploadArchive } from './upload.ts';

/**
 * The `:SYNC` folder's copy, one `sync` step, by its `send_mode`:
 * - `rsync`: `rsync -a --delete` of `source` over SSH into the storage path (the folder lands as
 *   `<path>/<basename of source>`, so `--delete` never touches the archives beside it), `excluded_paths` passed as
 *   rsync `--exclude` patterns (`**` crosses folders). OpenSSH takes no password on its command line: with a key
 *   it gets `-i` on a 0600 temporary file; with a password it gets it from `SSH_ASKPASS` (forced), a 0700 script
 *   that prints an environment variable set for rsync's process only. Neither secret is ever in an argument list
 *   or a log line.
 * - `zip`: the folder packed here (sync-zip.ts: the same files left out as by rsync) and sent by SFTP as
 *   `<path>/<basename of source>.zip`, replacing the previous one atomically, like the pg archives (upload.ts).
 *   The local archive is removed whatever happens.
 */

export async function syncFolder(
  cfg: BackupConfig,
  o: {
    steps: StepRecorder;
    ssh: SshPool;
    localDir: string;
    wallNow: number;
    host: string;
    limits: ArchiveLimits;
    /** Where the output lines of the child processes (rsync, zip) go as records (src/child-output.ts). */
    output?: (source: string) => ChildOutput;
    /** Kills the child process under way (the controller is stopping). */
    signal?: AbortSignal;
  },
): Promise<void> {
  const sync = cfg.sync_folder;
  if (!sync) return;
  const source = sync.source;
  await o.steps.run('sync', source ?? ':SYNC', async () => {
    if (source === undefined) throw new Error('sync_folder.source is not set: no folder to copy');
    const storage = storageOf(cfg, sync);
    const dir = expandPath(storage.path, o.wallNow, o.host);
    switch (sync.send_mode) {
      case 'rsync':
        return rsyncFolder(source, sync.excluded_paths, storage, dir, o);
      case 'zip':
        return zipAndUpload(source, sync.excluded_paths, storage, dir, o);
    }
  });
}

async function zipAndUpload(
  source: string,
  excluded: readonly string[],
  storage: Storage,
  dir: string,
  o: {
    ssh: SshPool;
    localDir: string;
    limits: ArchiveLimits;
    output?: (source: string) => ChildOutput;
    signal?: AbortSignal;
  },
): Promise<StepResult> {
  const work = mkdtempSync(join(o.localDir, 'sync-'));
  const name = `${basename(source.replace(/\/+$/, ''))}.zip`;
  const archive = join(work, name);
  try {
    await zipFolder({
      source,
      excluded,
      archive,
      scratch: work,
      timeoutMs: o.limits.commandMs,
      ...(o.output && { output: o.output }),
      ...(o.signal && { signal: o.signal }),
    });
    return await uploadArchive(o.ssh, storage.target, {
      localArchive: archive,
      dir,
      name,
      probeMs: o.limits.probeMs,
      transferMs: o.limits.transferMs,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function rsyncFolder(
  source: string,
  excluded: readonly string[],
  storage: Storage,
  dir: string,
  o: {
    localDir: string;
    limits: ArchiveLimits;
    output?: (source: string) => ChildOutput;
    signal?: AbortSignal;
  },
): Promise<StepResult> {
  const t = storage.target;
  const auth = mkdtempSync(join(o.localDir, 'ssh-'));
  try {
    const ssh = ['ssh', '-F', 'none', '-p', String(t.port), '-o', 'StrictHostKeyChecking=no'];
    ssh.push('-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10');
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (t.privateKey !== undefined) {
      const key = join(auth, 'key');
      writeFileSync(key, t.privateKey.endsWith('\n') ? t.privateKey : `${t.privateKey}\n`, { mode: 0o600 });
      ssh.push('-i', key, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes');
    } else if (t.password !== undefined) {
      const askpass = join(auth, 'askpass');
      writeFileSync(askpass, '#!/bin/sh\nprintf \'%s\\n\' "$MWARE_BACKUP_SSH_SECRET"\n');
      chmodSync(askpass, 0o700);
      Object.assign(env, {
        SSH_ASKPASS: askpass,
        SSH_ASKPASS_REQUIRE: 'force',
        DISPLAY: env.DISPLAY ?? 'none',
        MWARE_BACKUP_SSH_SECRET: t.password,
      });
      ssh.push(
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PreferredAuthentications=password,keyboard-interactive',
      );
      ssh.push('-o', 'NumberOfPasswordPrompts=1');
    } else {
      throw new Error('the storage has neither storage_ssh_pwd nor a key');
    }
    const args = ['-a', '--delete', '--mkpath', '--stats'];
    for (const p of excluded) args.push(`--exclude=${p}`);
    // rsync splits -e on spaces (honouring quotes): the paths in it are ours, without spaces.
    args.push(
      '-e',
      ssh.join(' '),
      source.replace(/\/+$/, ''),
      `${t.user}@${t.host}:${dir.replace(/\/*$/, '/')}`,
    );
    const out = await runChild({
      program: 'rsync',
      args,
      env,
      timeoutMs: o.limits.transferMs,
      ...(o.output && { output: o.output('rsync') }),
      ...(o.signal && { signal: o.signal }),
    });
    const sent = /Total bytes sent: ([\d,.]+)/.exec(out)?.[1];
    return {
      ...(sent !== undefined && { bytes: Number(sent.replace(/[,.]/g, '')) }),
      detail: `${t.user}@${t.host}:${t.port}:${dir}`,
    };
  } finally {
    rmSync(auth, { recursive: true, force: true });
  }
}
