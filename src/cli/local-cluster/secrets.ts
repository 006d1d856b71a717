import { randomBytes } from 'node:crypto';

/**
 * The secrets a topology file takes from the environment (`${env:NAME}`), made up for a local run when they are
 * not set: random, long enough for every check (tokens and the cluster secret need 16 characters), in hex (safe to
 * paste after `--token`), and never written anywhere but the environment of the processes the script starts.
 */
export function missingSecrets(text: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const made: Record<string, string> = {};
  for (const m of text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const name = m[1] as string;
    if (env[name] === undefined && made[name] === undefined) made[name] = randomBytes(20).toString('hex');
  }
  return made;
}
