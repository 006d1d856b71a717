#!/usr/bin/env node
// The whole test suite: installs the Debian packages of the real servers it starts (when missing), then runs
// every test file with node:test through tsx. Files are listed explicitly because on Node 20 `node --test DIR`
// silently runs no .ts file and exits 0. Usage: node test/run.mjs [substring …] to run matching files only.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Programs the suite starts for real → the Debian package providing each. */
const PACKAGES = {
  'redis-server': 'redis-server',
  'redis-sentinel': 'redis-sentinel',
  tmux: 'tmux',
  chromium: 'chromium',
  openssl: 'openssl',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  rsync: 'rsync',
  zip: 'zip',
  unzip: 'unzip',
  snmptrapd: 'snmptrapd',
  snmpd: 'snmpd',
  pebble: 'pebble',
};
const PG_BIN = '/usr/lib/postgresql/15/bin';

function onPath(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

function ensurePackages() {
  const missing = Object.entries(PACKAGES)
    .filter(([bin]) => !onPath(bin))
    .map(([, pkg]) => pkg);
  try {
    accessSync(join(PG_BIN, 'postgres'), constants.X_OK);
  } catch {
    missing.push('postgresql-15');
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(
      `missing Debian packages: ${missing.join(' ')}\nrun: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`installing ${missing.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...missing],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`apt-get ${args.join(' ')} failed`);
      process.exit(1);
    }
  }
}

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'artifacts' ? [] : testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

ensurePackages();
const filters = process.argv.slice(2);
const files = testFiles(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files found: refusing to report success');
  process.exit(1);
}
/**
 * `*.solo.test.ts` files load the whole machine on purpose (a CPU hog): they run after the others, one at a time.
 */
const solo = files.filter((f) => f.endsWith('.solo.test.ts'));
const shared = files.filter((f) => !solo.includes(f));
console.log(`running ${files.length} test files${solo.length ? ` (${solo.length} alone at the end)` : ''}`);
/**
 * A file whose test failed can leave a handle open (a timer, a child process) and keep its process alive forever:
 * the whole run is given a deadline, after which it is stopped and reported as failed rather than left to hang.
 */
const DEADLINE_MS = Number(process.env.MWARE_TEST_DEADLINE_MS ?? 20 * 60_000);
let child;
const deadline = setTimeout(() => {
  console.error(
    `\nthe suite did not finish within ${DEADLINE_MS / 60_000} min: stopping it (a test left something running)`,
  );
  stopChild('SIGKILL');
  process.exit(1);
}, DEADLINE_MS);
function stopChild(sig) {
  if (!child) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    stopChild(sig);
    process.exit(1);
  });
function runTests(list, concurrency) {
  return new Promise((resolve) => {
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        `--test-reporter=${join(root, 'test/harness/file-times-reporter.mjs')}`,
        '--test-reporter-destination=stdout',
        ...list,
      ],
      { cwd: root, stdio: 'inherit', detached: true },
    );
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
/**
 * Files run CONCURRENCY at a time: three. Most of a file's time is spent waiting, so three finish sooner than two
 * (one per core) on this 2-core machine; the timing races three once showed were fixed (a busy machine delays, a test
 * must not assume it does not). `MWARE_TEST_CONCURRENCY` overrides it.
 */
const CONCURRENCY = Number(process.env.MWARE_TEST_CONCURRENCY ?? 3);
let status = shared.length > 0 ? await runTests(shared, CONCURRENCY) : 0;
if (solo.length > 0) status = (await runTests(solo, 1)) || status;
clearTimeout(deadline);
process.exit(status);
