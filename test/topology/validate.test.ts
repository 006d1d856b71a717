import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadTopologyFile, parseTopologyText } from '../../topology/load.ts';
import { formatProblem } from '../../topology/problems.ts';
import { mwareRoles } from '../../topology/schema.ts';
import { tempDir } from '../harness/temp.ts';

const FIXTURES = new URL('../fixtures/topology/', import.meta.url).pathname.replace(/\/$/, '');
const CONFIG = new URL('../../config/', import.meta.url).pathname;

const CLUSTER_SECRETS = {
  MWARE_SCRIPTS_TOKEN: 'scripts-token-0123456789',
  MWARE_OPS_TOKEN: 'ops-token-0123456789abcd',
  MWARE_CLUSTER_SECRET: 'cluster-secret-0123456789',
  PG_SSH_PWD: 'ssh-password',
  PG_REPLICA_PWD: 'replica-password',
  FS_DB_PWD: 'fs-db-password',
  ESL_PWD: 'ClueCon',
  MWARE_SNMP_COMMUNITY: 'snmp-community',
  MWARE_SNMP_AUTH_KEY: 'snmp-auth-key',
  MWARE_SNMP_PRIV_KEY: 'snmp-priv-key',
  MWARE_CTI_TOKEN: 'cti-token-0123456789',
};

function sources(env: Record<string, string> = {}, files: Record<string, string> = {}) {
  return {
    env,
    baseDir: '/topology',
    readFile: (p: string) => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return v;
    },
  };
}

describe('topology validation', () => {
  it('accepts the shipped embedded example', () => {
    const r = loadTopologyFile(join(CONFIG, 'topology.example.yaml'));
    assert.equal(r.ok, true, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
  });

  for (const file of ['topology.cluster.yaml', 'topology.platform.yaml'])
    it(`accepts the shipped ${file} once its secrets are provided`, () => {
      const text = readFileSync(join(CONFIG, file), 'utf8');
      const r = parseTopologyText(text, file, sources(CLUSTER_SECRETS));
      assert.equal(r.ok, true, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
      assert.deepEqual(
        mwareRoles(r.topology).map((x) => [x.name, x.group, x.order]),
        [
          ['mware1', 11120, 10],
          ['mware2', 11120, 20],
          ['mware3', 11130, 10],
          ['mware4', 11130, 20],
        ],
      );
    });

  it('keeps the cluster that runs on one machine (npm run cluster) to mware instances and its own secrets', () => {
    const text = readFileSync(join(CONFIG, 'topology.cluster.yaml'), 'utf8');
    const { MWARE_SCRIPTS_TOKEN, MWARE_OPS_TOKEN, MWARE_CLUSTER_SECRET } = CLUSTER_SECRETS;
    const r = parseTopologyText(
      text,
      'topology.cluster.yaml',
      sources({ MWARE_SCRIPTS_TOKEN, MWARE_OPS_TOKEN, MWARE_CLUSTER_SECRET }),
    );
    assert.equal(r.ok, true, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
    assert.deepEqual(
      r.topology.roles.map((x) => x.roletype),
      ['mware', 'mware', 'mware', 'mware'],
    );
    for (const role of mwareRoles(r.topology))
      assert.deepEqual(
        [role.pg_controller, role.freeswitch, role.cti_adapters],
        [[], undefined, []],
        `${role.name} controls nothing that is not running`,
      );
  });

  const bad = readdirSync(FIXTURES).filter((f) => /^bad-.*\.(ya?ml|json)$/.test(f));
  it('has bad fixtures to check', () => assert.ok(bad.length >= 10, `only ${bad.length} bad fixtures`));
  for (const f of bad) {
    it(`reports exactly the expected problems of ${f}, each with its path`, () => {
      const r = loadTopologyFile(join(FIXTURES, f));
      assert.equal(r.ok, false, `${f} was accepted`);
      const got = r.ok ? [] : r.problems.map((p) => formatProblem(p).replaceAll(FIXTURES, '<fixtures>'));
      const expected = readFileSync(join(FIXTURES, f.replace(/\.(ya?ml|json)$/, '.expected')), 'utf8')
        .trim()
        .split('\n');
      assert.deepEqual(got, expected);
    });
  }

  it('reads JSON files with the same schema as YAML', () => {
    const dir = tempDir('topology-json');
    try {
      const doc = parse(readFileSync(join(CONFIG, 'topology.example.yaml'), 'utf8')) as object;
      writeFileSync(join(dir.path, 't.json'), JSON.stringify(doc, null, 2));
      const r = loadTopologyFile(join(dir.path, 't.json'));
      assert.equal(r.ok, true);
      (doc as { roles: { api: { port: number } }[] }).roles[0]!.api.port = 0;
      const text = JSON.stringify(doc, null, 2);
      writeFileSync(join(dir.path, 'bad.json'), text);
      const bad = loadTopologyFile(join(dir.path, 'bad.json'));
      assert.equal(bad.ok, false);
      const lines = text.split('\n');
      const line = lines.findIndex((l) => l.includes('"port": 0')) + 1;
      const column = (lines[line - 1] ?? '').indexOf('"port"') + 1;
      assert.deepEqual(bad.ok ? [] : bad.problems.map(formatProblem), [
        `roles[0].api.port (line ${line}, column ${column}): must be a port number 1-65535 (got 0)`,
      ]);
    } finally {
      dir.cleanup();
    }
  });

  it('resolves ${env:…} and ${file:…} references, relative files against the file’s folder, and remembers the values', () => {
    const doc = parse(readFileSync(join(CONFIG, 'topology.example.yaml'), 'utf8')) as Record<string, unknown>;
    doc.security = {
      api_tokens: [
        { name: 'scripts', token: '${env:SCRIPTS}', scopes: ['send'] },
        { name: 'ops', token: '${file:secrets/ops.token}', scopes: ['admin'] },
      ],
    };
    const r = parseTopologyText(
      stringify(doc),
      't.yaml',
      sources(
        { SCRIPTS: 'from-the-environment-1' },
        { '/topology/secrets/ops.token': 'from-a-file-0123456789\n' },
      ),
    );
    assert.equal(r.ok, true, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
    assert.deepEqual(
      r.topology.security.api_tokens.map((t) => t.token),
      ['from-the-environment-1', 'from-a-file-0123456789'],
    );
    assert.deepEqual([...r.secrets].sort(), ['from-a-file-0123456789', 'from-the-environment-1']);
  });

  it('never prints a secret value, even where a problem echoes the value back', () => {
    const doc = parse(readFileSync(join(CONFIG, 'topology.example.yaml'), 'utf8')) as Record<string, unknown>;
    (doc.sites as { name: string }[])[0]!.name = '${env:SITE_SECRET}';
    const r = parseTopologyText(stringify(doc), 't.yaml', sources({ SITE_SECRET: 'not/a valid name' }));
    assert.equal(r.ok, false);
    const text = r.ok ? '' : r.problems.map(formatProblem).join('\n');
    assert.match(text, /sites\[0\]\.name/);
    assert.doesNotMatch(text, /not\/a valid name/);
    assert.match(text, /\[REDACTED\]/);
  });

  it('takes disabled instances out of validation altogether', () => {
    const doc = parse(readFileSync(join(CONFIG, 'topology.example.yaml'), 'utf8')) as { roles: unknown[] };
    doc.roles.push({
      name: 'old',
      roletype: 'mware',
      enabled: false,
      server: 'gone',
      group: 'not a number',
      whatever: 1,
    });
    const r = parseTopologyText(stringify(doc), 't.yaml', sources());
    assert.equal(r.ok, true, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
    assert.deepEqual(
      mwareRoles(r.topology).map((x) => x.name),
      ['mware1'],
    );
  });

  it('checks only the common fields of other roletypes', () => {
    const doc = parse(readFileSync(join(CONFIG, 'topology.example.yaml'), 'utf8')) as { roles: unknown[] };
    doc.roles.push({
      name: 'sg1',
      roletype: 'sg',
      server: 'srv1',
      iface: 'eth0',
      sip_port: 5060,
      anything: { goes: true },
    });
    doc.roles.push({ name: 'bad-name', roletype: 'web', server: 'srv1' });
    const r = parseTopologyText(stringify(doc), 't.yaml', sources());
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`), [
      'roles[2].name: must be Latin letters and digits starting with a letter (got "bad-name")',
    ]);
  });

  it('reports a bad interface address or alias once, and still counts the roles of its server on its site', () => {
    for (const [ifaces, iface, expected] of [
      [
        { eth0: '127.0.0.1', eth1: '127.0.0.300' },
        'eth0',
        'servers[0].ifaces.eth1: must be an IPv4 or IPv6 address (got "127.0.0.300")',
      ],
      [
        { eth0: '127.0.0.1', eth1: '0.0.0.0' },
        'eth1',
        `servers[0].ifaces.eth1: "0.0.0.0" (the unspecified address) would listen on every interface; give the role's internal address`,
      ],
      [
        { eth0: '127.0.0.1', 'eth 1': '127.0.0.2' },
        'eth 1',
        'servers[0].ifaces["eth 1"]: interface aliases use letters, digits, _ . -',
      ],
    ] as const) {
      const doc = parse(readFileSync(join(CONFIG, 'topology.example.yaml'), 'utf8')) as {
        servers: Record<string, unknown>[];
        roles: Record<string, unknown>[];
      };
      doc.servers[0]!.ifaces = ifaces;
      doc.roles[0]!.iface = iface;
      const r = parseTopologyText(stringify(doc), 't.yaml', sources());
      assert.deepEqual(r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`), [expected]);
    }
  });

  it('reports a missing required field as required, at its path', () => {
    const doc = parse(readFileSync(join(CONFIG, 'topology.example.yaml'), 'utf8')) as {
      roles: Record<string, unknown>[];
    };
    delete doc.roles[0]!.group;
    delete doc.roles[0]!.server;
    const r = parseTopologyText(stringify(doc), 't.yaml', sources());
    assert.deepEqual(r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`), [
      'roles[0].server: is required',
      'roles[0].group: is required',
    ]);
  });
});

describe('topology syntax', () => {
  it('reports an alias to a missing anchor as a syntax error instead of crashing', () => {
    const r = parseTopologyText('cluster: demo\nsites: *nowhere\n', 't.yaml', sources());
    assert.deepEqual(r.ok ? [] : r.problems.map(formatProblem), [
      '(file): syntax error: Unresolved alias (the anchor must be set before the alias): nowhere',
    ]);
  });

  it('refuses an alias bomb', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    const r = parseTopologyText(bomb, 't.yaml', sources());
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.problems.map(formatProblem).join('\n'), /syntax error: .*alias/i);
  });
});
