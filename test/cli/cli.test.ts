import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MWARE_BIN, PROJECT_ROOT } from '../harness/node.ts';

/** The `mware` command line as a user types it. */

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/topology');

function mware(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MWARE_BIN, ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // 'close', not 'exit': the output may still be arriving when the process has exited.
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('mware validate', () => {
  it('exits 0 on a valid file and says what it describes', async () => {
    const r = await mware('validate', 'config/topology.example.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /valid — 1 site\(s\), 1 server\(s\), 1 mware instance\(s\) in 1 group\(s\), 5 domain\(s\), coordination: embedded/,
    );
  });

  it('exits 2 on every bad fixture and names every expected path', async () => {
    const bad = readdirSync(FIXTURES).filter((f) => /^bad-.*\.(ya?ml|json)$/.test(f));
    const results = await Promise.all(
      bad.map(async (f) => ({ f, r: await mware('validate', join(FIXTURES, f)) })),
    );
    for (const { f, r } of results) {
      assert.equal(r.code, 2, `${f}: ${r.stdout}${r.stderr}`);
      const expected = readFileSync(join(FIXTURES, f.replace(/\.(ya?ml|json)$/, '.expected')), 'utf8')
        .trim()
        .split('\n');
      for (const line of expected)
        assert.ok(
          r.stderr.includes(line.replaceAll('<fixtures>', FIXTURES)),
          `${f}: missing "${line}" in\n${r.stderr}`,
        );
    }
  });

  it('exits 2 when the file does not exist', async () => {
    const r = await mware('validate', 'no/such/file.yaml');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read the topology file \(ENOENT\)/);
  });
});

describe('mware', () => {
  it('prints the JSON Schema of the topology file', async () => {
    const r = await mware('schema');
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown>; required: string[] };
    for (const key of ['cluster', 'coordination', 'security', 'sites', 'servers', 'roles', 'domains'])
      assert.ok(key in schema.properties, key);
    assert.deepEqual([...schema.required].sort(), ['cluster', 'roles', 'servers', 'sites']);
  });

  it('has --help on every command and exits 0 with it', async () => {
    for (const args of [
      ['--help'],
      ['start', '--help'],
      ['validate', '--help'],
      ['schema', '--help'],
      ['shell', '--help'],
      ['send', '--help'],
    ]) {
      const r = await mware(...args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /Usage: mware/);
    }
  });

  it('send to an address where no node listens says it retries, then gives up at --timeout (exit 1)', async () => {
    const started = performance.now();
    const r = await mware(
      'send',
      '/domains/x',
      'info',
      '--url',
      'http://127.0.0.1:1',
      '--token',
      't',
      '--timeout',
      '800',
    );
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(
      lines[0] ?? '',
      /^mware: http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1; retrying for up to 0\.\d s more \(--timeout MS to change\)$/,
    );
    assert.match(
      lines[1] ?? '',
      /^mware: MW_ERR_REQUEST_FAILED: POST \/api\/v1\/actors\/domains\/x\/messages: connect ECONNREFUSED/,
    );
    assert.ok(performance.now() - started < 20_000, 'it gave up at its deadline, not the default 30 s');
  });

  it('exits 2 on bad usage', async () => {
    assert.equal((await mware('bogus')).code, 2);
    assert.equal((await mware('start', '--no-such-option')).code, 2);
    assert.equal((await mware('validate')).code, 2);
  });
});
