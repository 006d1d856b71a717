import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildOutput } from '../../src/child-output.ts';
import { eachLine } from '../../src/process-lines.ts';
import type { BackupConfig } from './targets.ts';
import { expandPath, storageOf } from './targets.ts';
import type { StepRecorder } from './steps.ts';

/**
 * The `:SYNC` folder's copy: `rsync -a --delete` of `source` over SSH into the storage path (the folder lands as
 * `<path>/<basename of source>`, so `--delete` never touches the archives beside it), `excluded_paths` passed as
 * rsync `--exclude` patterns (`**` crosses folders). OpenSSH takes no password on its command line: with a key
 * it gets `-i` on a 0600 temporary file; with a password it gets it from `SSH_ASKPASS` (forced), a 0700 script
 * that prints an environment variable set for rsync's process only. Neither secret is ever in an argument list or
 * a log line.
 */

export async function syncFolder(
  cfg: BackupConfig,
  o: {
    steps: StepRecorder;
    localDir: string;
    wallNow: number;
    host: string;
    timeoutMs: number;
    /** Where rsync's output lines go as records (src/child-output.ts). */
    output?: ChildOutput;
  },
): Promise<void> {
  const sync = cfg.sync_folder;
  if (!sync) return;
  const source = sync.source;
  await o.steps.run('sync', source ?? ':SYNC', async () => {
    if (source === undefined) throw new Error('sync_folder.source is not set: no folder to copy');
    if (sync.send_mode !== 'rsync')
      throw new Error(`send_mode ${sync.send_mode} is not supported yet (use rsync)`);
    const storage = storageOf(cfg, sync);
    const t = storage.target;
    const dir = expandPath(storage.path, o.wallNow, o.host);
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
      for (const p of sync.excluded_paths) args.push(`--exclude=${p}`);
      // rsync splits -e on spaces (honouring quotes): the paths in it are ours, without spaces.
      args.push(
        '-e',
        ssh.join(' '),
        source.replace(/\/+$/, ''),
        `${t.user}@${t.host}:${dir.replace(/\/*$/, '/')}`,
      );
      const out = await runRsync(args, env, o.timeoutMs, o.output);
      const sent = /Total bytes sent: ([\d,.]+)/.exec(out)?.[1];
      return {
        ...(sent !== undefined && { bytes: Number(sent.replace(/[,.]/g, '')) }),
        detail: `${t.user}@${t.host}:${t.port}:${dir}`,
      };
    } finally {
      rmSync(auth, { recursive: true, force: true });
    }
  });
}

function runRsync(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  output: ChildOutput | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('rsync', args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    const stderr: string[] = [];
    // Every line goes to the node's log as a record of its own (bounded per run); the pipes are read to the end.
    eachLine(child.stdout, (l) => {
      stdout = `${stdout}${l}\n`.slice(-20_000);
      output?.line('stdout', l);
    });
    eachLine(child.stderr, (l) => {
      stderr.push(l);
      if (stderr.length > 3) stderr.shift();
      output?.line('stderr', l);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`rsync did not finish within ${timeoutMs} ms; killed`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start rsync: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      output?.end();
      if (code === 0) resolve(stdout);
      else reject(new Error(`rsync exited with ${code ?? signal}: ${stderr.filter(Boolean).join(' / ')}`));
    });
  });
}
