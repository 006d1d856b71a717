// One run of the load generator (bench/load.ts) in its own process, so it does not share the benchmark's event
// loop. Awaited, not run synchronously: the benchmark keeps reading its node processes' output meanwhile (a node
// writing to a full pipe would stall and skew the figure).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface Run {
  rps: number;
  cycles: number;
  p50: number;
  p99: number;
  errors: number;
}

export type Scenario = 'ask' | 'mutex' | 'channel';

const execFileAsync = promisify(execFile);

/** `connections` connections (script clients for `channel`) for `seconds`, against `url`; see bench/load.ts. */
export async function load(
  scenario: Scenario,
  url: string,
  token: string,
  seconds: number,
  connections: number,
  env: Record<string, string> = {},
): Promise<Run> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./load.ts', import.meta.url).pathname,
      scenario,
      url,
      token,
      String(connections),
      String(seconds),
    ],
    { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout) as Run;
}
