import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnknownMessage } from '../../src/actor-system/errors.ts';
import { AskTimeout } from '../../src/supervision/errors.ts';
import type { NodeEntry } from '../../src/monitor/collector.ts';
import { NodeMonitor, SystemStateCollector } from '../../src/monitor/collector.ts';
import type { Deviation } from '../../src/monitor/deviation.ts';
import type { NodeDeviations } from '../../src/monitor/schemas.ts';
import { SystemStateSchema } from '../../src/monitor/schemas.ts';
import type { ChildRecord } from '../../src/supervision/child.ts';
import { ManualClock } from '../../src/supervision/clock.ts';
import { Directory } from '../../src/supervision/directory.ts';
import { PeerLost } from '../../src/cluster/errors.ts';

/** The system state's collector and a node's own deviations, on a manual clock with stand-in peers and actors. */

const T0 = Date.UTC(2026, 11, 7, 1, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

interface FakeRecord {
  path: string;
  kind?: string;
  mode?: 'in-memory' | 'supervisor';
  state?: ChildRecord['state'];
  restartTimes?: number[];
  lastError?: { name: string; code: string; message: string };
  problem?: { name: string; code: string; message: string };
  /** Answers `type` (a real record fails an ask at its deadline: `timeoutMs`). */
  ask?: (type: string, timeoutMs: number) => Promise<unknown>;
}

function directoryOf(clock: ManualClock, records: FakeRecord[]): Directory {
  const d = new Directory(clock);
  for (const r of records)
    d.register({
      path: r.path,
      spec: { kind: r.kind ?? 'thing', mode: r.mode ?? 'in-memory' },
      state: r.state ?? 'running',
      restarts: r.restartTimes?.length ?? 0,
      restartTimes: r.restartTimes ?? [],
      lastError: r.lastError,
      incarnation: { problem: () => r.problem },
      ask: (type: string, _payload: unknown, timeoutMs: number) =>
        r.ask ? r.ask(type, timeoutMs) : Promise.reject(new UnknownMessage(`no handler for ${type}`)),
    } as unknown as ChildRecord);
  return d;
}

function monitor(
  clock: ManualClock,
  records: FakeRecord[],
  o: { load5?: number; healthy?: boolean; role?: NodeDeviations['role'] } = {},
) {
  return new NodeMonitor({
    node: 'mware1',
    site: 'main',
    group: 1,
    directory: directoryOf(clock, records),
    clock,
    coordination: () => ({ kind: 'redis', healthy: o.healthy ?? true }),
    loadavg: () => [0, o.load5 ?? 0.1, 0],
    cores: () => 2,
    scrub: (t) => t.replaceAll('s3cret', '***'),
    thresholds: { serviceTimeoutMs: 50 },
    role: () => o.role ?? 'active',
    state: () => 'active',
  });
}

const kinds = (ds: readonly Deviation[]) => ds.map((d) => `${d.kind} ${d.source}`).sort();

describe('a node’s own deviations', () => {
  it('is empty for a quiet node: running actors, low load, healthy coordination, services with nothing to say', async () => {
    const clock = new ManualClock(0, T0);
    const r = await monitor(clock, [
      { path: '/cluster' },
      { path: '/services', mode: 'supervisor' },
      { path: '/services/acme', ask: async () => [] },
      { path: '/services/syslog-snmp' },
    ]).report();
    assert.deepEqual(r, {
      node: 'mware1',
      site: 'main',
      group: 1,
      role: 'active',
      state: 'active',
      deviations: [],
    });
  });

  it('reports a failed actor, one restarted lately, one whose work fails, CPU load, unhealthy coordination, and what services say — and not an old restart', async () => {
    const clock = new ManualClock(0, T0);
    const recentRestart = T0 - 60_000;
    const certDeviation: Deviation = {
      source: '/services/acme',
      kind: 'cert-expiring',
      severity: 'warning',
      since: iso(T0 - 86_400_000),
      message: 'certificate of sip.example.ru expires in 9 days',
    };
    const r = await monitor(
      clock,
      [
        {
          path: '/pg/main',
          kind: 'pg-controller',
          state: 'failed',
          lastError: { name: 'E', code: 'MW_ERR_X', message: 'password s3cret refused' },
        },
        { path: '/freeswitch/fs1', kind: 'freeswitch-host', restartTimes: [T0 - 3_600_000, recentRestart] },
        { path: '/domains/old', restartTimes: [T0 - 3_600_000] },
        {
          path: '/backup',
          kind: 'backup',
          problem: { name: 'E', code: 'MW_ERR_BACKUP_STEP', message: 'rsync failed' },
        },
        { path: '/services/acme', ask: async () => [certDeviation] },
        {
          path: '/services/monitors/megaco',
          ask: (_t, ms) =>
            new Promise((_, reject) => setTimeout(() => reject(new AskTimeout(`no reply in ${ms} ms`)), ms)),
        },
        { path: '/services/odd', ask: async () => [{ what: 'not a deviation' }] },
        { path: '/services/quiet' },
        { path: '/elsewhere', kind: 'not-a-service', ask: async () => [certDeviation] },
      ],
      { load5: 2.5, healthy: false },
    ).report();
    assert.deepEqual(kinds(r.deviations), [
      'actor-failed /pg/main',
      'actor-problem /backup',
      'actor-restarting /freeswitch/fs1',
      'cert-expiring /services/acme',
      'coordination-unhealthy coordination',
      'cpu-load cpu',
      'service-silent /services/monitors/megaco',
      'service-silent /services/odd',
    ]);
    for (const d of r.deviations) assert.deepEqual([d.node, d.site], ['mware1', 'main']);
    const by = (k: string) => r.deviations.find((d) => d.kind === k);
    assert.equal(by('actor-failed')?.severity, 'critical');
    assert.equal(by('actor-failed')?.details?.['error'], 'password *** refused', 'error text is scrubbed');
    assert.equal(by('actor-restarting')?.since, iso(recentRestart));
    assert.deepEqual(by('cpu-load')?.details, { load5: 2.5, cores: 2, per_core: 1.25 });
    assert.equal(by('cpu-load')?.severity, 'warning');
    assert.equal(by('cert-expiring')?.since, certDeviation.since, 'a service’s own since is kept');
  });

  it('keeps a deviation’s since while it holds, and starts afresh once it has cleared', async () => {
    const clock = new ManualClock(0, T0);
    let load5 = 5;
    const m = new NodeMonitor({
      node: 'mware1',
      site: 'main',
      group: 1,
      directory: new Directory(clock),
      clock,
      coordination: () => ({ kind: 'embedded', healthy: true }),
      loadavg: () => [0, load5, 0],
      cores: () => 2,
      scrub: (t) => t,
      role: () => 'active',
      state: () => 'active',
    });
    const first = (await m.report()).deviations[0];
    assert.equal(first?.severity, 'critical');
    await clock.advance(300_000);
    load5 = 3;
    const held = (await m.report()).deviations[0];
    assert.equal(held?.since, iso(T0), 'same since after a poll');
    assert.equal(held?.severity, 'warning');
    load5 = 0.5;
    assert.deepEqual((await m.report()).deviations, []);
    await clock.advance(60_000);
    load5 = 4;
    assert.equal(
      (await m.report()).deviations[0]?.since,
      iso(T0 + 360_000),
      'a new deviation after clearing',
    );
  });
});

describe('the system state across nodes', () => {
  const nodes: NodeEntry[] = [
    { name: 'mware1', group: 1, site: 'main' },
    { name: 'mware2', group: 1, site: 'main' },
    { name: 'mware3', group: 2, site: 'reserve' },
  ];
  const report = (
    node: string,
    group: number,
    role: NodeDeviations['role'],
    deviations: Deviation[] = [],
  ) => ({
    node,
    site: 'x',
    group,
    role,
    state: role,
    deviations,
  });

  it('asks every node at once, names a node that does not answer, and a group left with no active member', async () => {
    const clock = new ManualClock(0, T0);
    let mware3Up = false;
    const asked: string[] = [];
    const c = new SystemStateCollector({
      cluster: 'demo',
      self: 'mware1',
      nodes: () => nodes,
      local: async () => report('mware1', 1, 'active'),
      askPeer: async (name) => {
        asked.push(name);
        if (name === 'mware2')
          return report('mware2', 1, 'passive', [
            {
              source: 'cpu',
              kind: 'cpu-load',
              severity: 'warning',
              since: iso(T0 - 5),
              message: 'CPU load',
              node: 'mware2',
              site: 'x',
            },
          ]);
        if (!mware3Up) throw new PeerLost('mware3 did not answer within 3000 ms');
        return report('mware3', 2, 'active');
      },
      clock,
      scrub: (t) => t,
    });
    const s = SystemStateSchema.parse(await c.collect());
    assert.deepEqual(asked.sort(), ['mware2', 'mware3']);
    assert.equal(s.healthy, false);
    assert.deepEqual(
      s.deviations.map((d) => [d.severity, d.kind, d.node ?? null, d.site]),
      [
        ['critical', 'group-inactive', null, 'reserve'],
        ['critical', 'node-unreachable', 'mware3', 'reserve'],
        ['warning', 'cpu-load', 'mware2', 'main'],
      ],
      'critical first; a peer’s deviations carry its site from the topology',
    );
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.role, n.reachable]),
      [
        ['mware1', 'active', true],
        ['mware2', 'passive', true],
        ['mware3', 'unknown', false],
      ],
    );
    const since = s.deviations.find((d) => d.kind === 'node-unreachable')?.since;

    await clock.advance(300_000);
    const again = await c.collect();
    assert.equal(again.deviations.find((d) => d.kind === 'node-unreachable')?.since, since, 'since held');

    mware3Up = true;
    const healed = await c.collect();
    assert.deepEqual(
      healed.deviations.map((d) => d.kind),
      ['cpu-load'],
    );
    assert.ok(healed.nodes.every((n) => n.reachable));
  });

  it('is healthy when every node answers with nothing and every group has its active; parallel requests share one round', async () => {
    const clock = new ManualClock(0, T0);
    let rounds = 0;
    const c = new SystemStateCollector({
      cluster: 'demo',
      self: 'mware1',
      nodes: () => nodes,
      local: async () => {
        rounds++;
        return report('mware1', 1, 'active');
      },
      askPeer: async (name) => {
        if (name === 'mware2') throw new AskTimeout('late');
        return report(name, 2, 'active');
      },
      clock,
      scrub: (t) => t,
    });
    const [a, b] = await Promise.all([c.collect(), c.collect()]);
    assert.equal(rounds, 1);
    assert.equal(a, b);
    // mware2 (passive, group 1) does not answer: group 1 still has its active, mware1.
    assert.deepEqual(
      a.deviations.map((d) => d.kind),
      ['node-unreachable'],
    );
    assert.equal(a.deviations[0]?.details?.['code'], 'MW_ERR_TIMEOUT');
  });
});
