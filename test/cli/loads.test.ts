import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { exampleTopology, PROJECT_ROOT } from '../harness/node.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * What each `mware` command loads. The node's dependencies are heavy and not inert: comedy patches
 * `child_process.fork` as it is imported, node:repl slows every EventEmitter of the process. A command that does
 * not run a node must not load them; test/support/record-loads.mjs lists every module a real `mware` process loads.
 */

const RECORDER = join(PROJECT_ROOT, 'test/support/record-loads.mjs');
/** An address where no node listens: `send` and `shell` fail to connect, after loading all they need. */
const NOBODY = 'http://127.0.0.1:1';

interface Run {
  code: number | null;
  stderr: string;
  /** One line per load: `import SPECIFIER -> URL`, `require URL` or `builtin node:NAME`. */
  loads: string[];
}

/** Runs `mware ARGS` with the recorder; with `stopAt`, sends SIGTERM once a line of its stdout matches it. */
function mwareRecorded(args: string[], stopAt?: RegExp): Promise<Run> {
  const dir = tempDir('loads');
  const file = join(dir.path, 'loads.txt');
  return new Promise<Run>((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--import', RECORDER, 'src/cli/bin.mjs', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MWARE_RECORD_LOADS: file },
    });
    let stderr = '';
    let stdout = '';
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      // Once: a second SIGTERM makes the node exit at once, without its graceful stop.
      if (stopAt?.test(stdout)) {
        stopAt = undefined;
        p.kill('SIGTERM');
      }
    });
    p.on('close', (code) => {
      const loads = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      dir.cleanup();
      resolve({ code, stderr, loads });
    });
  });
}

/** A copy of the example topology on a free port, for a node started by a test. */
async function topologyFile(): Promise<{ file: string; dataDir: string; cleanup(): void }> {
  const dir = tempDir('loads-node');
  const file = join(dir.path, 'topology.yaml');
  writeFileSync(file, stringify((await exampleTopology()).topology));
  return { file, dataDir: join(dir.path, 'data'), cleanup: () => dir.cleanup() };
}

/** Modules that belong to a running node only, each with how to spot it in a recorded line. */
const NODE_ONLY: Record<string, RegExp> = {
  comedy: /\/node_modules\/comedy\//,
  fastify: /\/node_modules\/fastify\//,
  'pino-pretty': /\/node_modules\/pino-pretty\//,
  'node:repl': /(^| |-> )node:repl$/,
  // The node's options (DEFAULT_TOPOLOGY) are plain data the CLI may read; any other file there is the node.
  'src/node/': /\/src\/node\/(?!options\.ts$)[^/]+$/,
};

function loaded(run: Run, what: RegExp): string[] {
  return run.loads.filter((l) => what.test(l));
}

/** Fails naming every node-only module the run loaded, and the line that shows it. */
function assertLoadsNone(run: Run, names: string[]): void {
  const found = names.flatMap((n) =>
    loaded(run, NODE_ONLY[n]!)
      .slice(0, 1)
      .map((l) => `${n}: ${l}`),
  );
  assert.deepEqual(found, [], `loaded what it does not use:\n${found.join('\n')}`);
}

/** The recorder saw this run's own modules, so an empty finding above means something. */
function assertRecorded(run: Run, ...expected: RegExp[]): void {
  for (const re of expected) assert.ok(loaded(run, re).length > 0, `no load matching ${re} was recorded`);
}

describe('what each mware command loads', () => {
  it('validates a file without loading comedy, fastify, pino-pretty, node:repl or the node', async () => {
    const r = await mwareRecorded(['validate', 'config/topology.example.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assertRecorded(r, /\/node_modules\/commander\//, /\/topology\/load\.ts$/, /\/node_modules\/yaml\//);
    assertLoadsNone(r, ['comedy', 'fastify', 'pino-pretty', 'node:repl', 'src/node/']);
  });

  it('validates a file without loading the logger: the topology layer does not log', async () => {
    const r = await mwareRecorded(['validate', 'config/topology.example.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assertRecorded(r, /\/topology\/secrets\.ts$/);
    assert.deepEqual(loaded(r, /\/src\/log\/|\/node_modules\/pino\//).slice(0, 1), []);
  });

  it('prints the schema without loading comedy, fastify, pino-pretty, node:repl or the node', async () => {
    const r = await mwareRecorded(['schema']);
    assert.equal(r.code, 0, r.stderr);
    assertRecorded(r, /\/topology\/json-schema\.ts$/, /\/node_modules\/zod\//);
    assertLoadsNone(r, ['comedy', 'fastify', 'pino-pretty', 'node:repl', 'src/node/']);
  });

  it('sends a message through the client alone, without the node, comedy, fastify or node:repl', async () => {
    const r = await mwareRecorded([
      'send',
      '/domains/x',
      'info',
      '--url',
      NOBODY,
      '--token',
      'not-a-real-token',
      '--timeout',
      '300',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assertRecorded(r, /\/src\/client\/client\.ts$/);
    assertLoadsNone(r, ['comedy', 'fastify', 'pino-pretty', 'node:repl', 'src/node/']);
  });

  it('runs a shell command through the client alone, without the node, comedy or fastify', async () => {
    const r = await mwareRecorded(['shell', '-c', 'tree', '--url', NOBODY, '--token', 'not-a-real-token']);
    assert.equal(r.code, 1, r.stderr);
    assertRecorded(r, /\/src\/client\/client\.ts$/, /\/src\/shell\/shell\.ts$/);
    assertLoadsNone(r, ['comedy', 'fastify', 'pino-pretty', 'src/node/']);
  });

  it('shows the help of start without loading the node it would start', async () => {
    const r = await mwareRecorded(['start', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assertRecorded(r, /\/node_modules\/commander\//);
    assertLoadsNone(r, ['comedy', 'fastify', 'pino-pretty', 'node:repl', 'src/node/']);
  });

  it('runs a node logging JSON lines without loading pino-pretty, and loads it for --log-pretty', async () => {
    for (const [flag, pretty] of [
      ['--log-json', false],
      ['--log-pretty', true],
    ] as const) {
      const t = await topologyFile();
      try {
        const r = await mwareRecorded(
          ['start', '--topology', t.file, '--data-dir', t.dataDir, flag],
          /node active/,
        );
        assert.equal(r.code, 0, r.stderr);
        assertRecorded(r, NODE_ONLY.comedy!, NODE_ONLY.fastify!);
        assert.equal(loaded(r, NODE_ONLY['pino-pretty']!).length > 0, pretty, `${flag}: pino-pretty loaded?`);
      } finally {
        t.cleanup();
      }
    }
  });
});
