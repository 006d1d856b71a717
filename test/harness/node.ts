import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { freePort } from './ports.ts';
import { ManagedProcess } from './process.ts';
import { tempDir } from './temp.ts';

/** mware node processes started from a topology, as an operator would start them (`mware start`). */

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MWARE_BIN = join(PROJECT_ROOT, 'src/cli/bin.mjs');

/** The shipped example topology with its API on a free port (tests run in parallel). */
export async function exampleTopology(): Promise<{ topology: Record<string, unknown>; port: number }> {
  const topology = parse(readFileSync(join(PROJECT_ROOT, 'config/topology.example.yaml'), 'utf8')) as {
    roles: { api: { port: number } }[];
  };
  const port = await freePort();
  (topology.roles[0] as { api: { port: number } }).api.port = port;
  return { topology, port };
}

export interface NodeProcessOptions {
  /** A topology file path, or a topology object written to a temporary file. */
  topology: string | object;
  role?: string;
  dataDir?: string;
  env?: Record<string, string>;
  args?: string[];
}

export interface NodeProcess {
  process: ManagedProcess;
  topologyFile: string;
  dataDir: string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  cleanup(): void;
}

export function startNodeProcess(o: NodeProcessOptions): NodeProcess {
  const dir = tempDir('node');
  let topologyFile: string;
  if (typeof o.topology === 'string') topologyFile = o.topology;
  else {
    topologyFile = join(dir.path, 'topology.yaml');
    writeFileSync(topologyFile, stringify(o.topology));
  }
  const dataDir = o.dataDir ?? join(dir.path, 'data');
  const args = [
    MWARE_BIN,
    'start',
    '--topology',
    topologyFile,
    '--data-dir',
    dataDir,
    ...(o.role ? ['--role', o.role] : []),
    ...(o.args ?? []),
  ];
  const proc = new ManagedProcess(`mware ${o.role ?? ''}`.trim(), process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, MWARE_LOG_LEVEL: 'debug', ...o.env },
  });
  return {
    process: proc,
    topologyFile,
    dataDir,
    logs: () =>
      proc.lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    cleanup: () => dir.cleanup(),
  };
}
