import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { RunRecord } from '../../actors/svctasks/ledger.ts';
import type { TaskDetail } from '../../actors/svctasks/protocol.ts';
import { clusterTopology } from '../harness/cluster.ts';
import { ClusterNodes } from '../harness/cluster-nodes.ts';
import { startRedis } from '../harness/redis.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * Service tasks on a 2-site cluster (real Redis, mware node processes): site `main` has group 1 (two members, the
 * domain's scheduler on its active), site `east` has group 2 (one member). Every node runs scripts with `/bin/sh`;
 * each script appends a line naming its task, site, node and firing to a shared file. The active of group 1 is
 * SIGKILLed while a run is under way. Then: every (task, firing, site) started at most once across both actives;
 * each sitemode ran where it must; every firing on the grid is accounted for in the ledger (ran, interrupted, or
 * skipped for overlap), none lost in the takeover.
 */

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const DOMAIN = 'test.rootdomain.ru';

interface Start {
  task: string;
  site: string;
  node: string;
  firing: string;
}

describe('service tasks on two sites', { timeout: 120_000 }, () => {
  it('fires each sitemode where it must, exactly once per firing and site, across a kill of the active mid-run', async () => {
    const dir = tempDir('svctasks');
    cleanups.push(() => dir.cleanup());
    const log = join(dir.path, 'runs.log');
    writeFileSync(log, '');
    const code = (sleepS: number) =>
      `echo "start $MW_TASK_ID $MW_TASK_SITE $MW_NODE $MW_FIRING_AT" >> ${log}\n` +
      (sleepS ? `sleep ${sleepS}\n` : '') +
      `echo "end $MW_TASK_ID $MW_TASK_SITE $MW_NODE $MW_FIRING_AT" >> ${log}\n`;
    const tasksFile = join(dir.path, 'tasks.yaml');
    writeFileSync(
      tasksFile,
      stringify([
        { id: 'everywhere', domain: DOMAIN, sitemode: 'all', intervalsec: 1, svcscriptcode: code(0) },
        {
          id: 'east-first',
          domain: DOMAIN,
          sitemode: 'first',
          sites: ['east', 'main'],
          intervalsec: 1,
          svcscriptcode: code(0),
        },
        { id: 'slow', domain: DOMAIN, sitemode: 'any', intervalsec: 1, svcscriptcode: code(1.5) },
      ]),
    );
    const svc_tasks = {
      runner: { command: ['/bin/sh'] },
      file: tasksFile,
      keep_runs: 500,
      deadline_ms: 10_000,
    };
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const c = await clusterTopology({
      redisUrl: redis.url,
      otherSites: [{ name: 'east' }],
      groups: [
        { group: 1, members: 2, role: { svc_tasks } },
        { group: 2, members: 1, site: 'east', role: { svc_tasks } },
      ],
    });
    const nodes = new ClusterNodes(c);
    cleanups.push(() => nodes.stop());
    for (const m of c.members) nodes.start(m.name);
    const [{ active, passive }] = await Promise.all([nodes.settled(1), nodes.settled(2)]);
    // Before east had an active instance, `first` rightly ran on main; from here on east is live.
    const eastLiveAt = Date.now();
    const east = c.members.find((m) => m.group === 2)?.name ?? '';
    const survivor = passive[0] ?? '';

    const starts = (): Start[] =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('start '))
        .map((l) => {
          const [, task = '', site = '', node = '', firing = ''] = l.split(' ');
          return { task, site, node, firing };
        });
    const ended = (s: Start) =>
      readFileSync(log, 'utf8').includes(`end ${s.task} ${s.site} ${s.node} ${s.firing}`);

    // Kill the active while a run of `slow` is under way there (started, not ended).
    await nodes.until(
      'the active runs slow',
      async () => starts().filter((s) => s.task === 'slow').length >= 2,
      20_000,
    );
    await nodes.until(
      'a run of slow under way',
      async () => starts().some((s) => s.task === 'slow' && s.node === active && !ended(s)),
      5_000,
    );
    nodes.node(active).process.signal('SIGKILL');
    await nodes.until('the passive took over', () => nodes.activeAt(survivor), 15_000);
    await nodes.until(
      'the new active runs the tasks',
      async () => starts().filter((s) => s.task === 'everywhere' && s.node === survivor).length >= 3,
      15_000,
    );

    const all = starts();
    // Exactly once: no (task, site, firing) started twice, across both actives.
    const seen = new Map<string, number>();
    for (const s of all)
      seen.set(`${s.task} ${s.site} ${s.firing}`, (seen.get(`${s.task} ${s.site} ${s.firing}`) ?? 0) + 1);
    const twice = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
    assert.deepEqual(twice, [], 'firings started twice');

    // Where: `all` on both sites (east's runs on east's node), `first` on east, `any` on the scheduler's own site.
    const of = (task: string) => all.filter((s) => s.task === task);
    const show = (task: string) =>
      of(task)
        .map((s) => `${s.site}/${s.node}`)
        .join(' ');
    assert.ok(
      of('everywhere').some((s) => s.site === 'east' && s.node === east),
      `everywhere: ${show('everywhere')}`,
    );
    assert.ok(
      of('everywhere').some((s) => s.site === 'main' && s.node === active),
      `everywhere: ${show('everywhere')}`,
    );
    assert.ok(
      of('everywhere').every((s) => (s.site === 'east') === (s.node === east)),
      `everywhere: ${show('everywhere')}`,
    );
    const eastFirst = of('east-first').filter((s) => Date.parse(s.firing) > eastLiveAt);
    assert.ok(eastFirst.length > 0, 'east-first ran');
    assert.ok(
      eastFirst.every((s) => s.site === 'east' && s.node === east),
      `east-first: ${show('east-first')}`,
    );
    assert.ok(
      of('slow').every((s) => s.site === 'main' && s.node !== east),
      `slow: ${show('slow')}`,
    );

    // The ledger on the new active accounts for every grid firing, once per site, none lost in the takeover.
    /** Finished runs, and the runs under way as `open` ones. */
    const runsOf = async (id: string) => {
      const t = (await nodes.get(survivor, `/api/v1/tasks/${DOMAIN}/${id}`)).body as unknown as TaskDetail;
      return [...t.runs, ...t.open.map((o) => ({ ...o, status: 'open' as const, site: o.site }))] as (Omit<
        RunRecord,
        'status'
      > & { status: RunRecord['status'] | 'open' })[];
    };
    for (const id of ['everywhere', 'slow']) {
      const runs = (await runsOf(id)).filter((r) => r.trigger === 'schedule');
      const sites = id === 'everywhere' ? ['main', 'east'] : ['main'];
      for (const site of sites) {
        const at = runs.filter((r) => r.site === site).map((r) => r.firing_at);
        assert.equal(new Set(at).size, at.length, `${id}@${site}: a firing recorded twice`);
        const sorted = [...at].sort((a, b) => a - b);
        const story = runs
          .filter((r) => r.site === site)
          .map((r) => `${(r.firing_at - (sorted[0] ?? 0)) / 1000}:${r.status}:${r.node}`)
          .join(' ');
        for (let i = 1; i < sorted.length; i++)
          assert.equal(
            (sorted[i] as number) - (sorted[i - 1] as number),
            1_000,
            `${id}@${site}: a firing missing: ${story}`,
          );
      }
    }
    const slow = await runsOf('slow');
    const interrupted = slow.filter((r) => r.status === 'interrupted');
    assert.equal(interrupted.length, 1, 'the run killed with the active is recorded as interrupted');
    assert.equal(interrupted[0]?.node, active);
    // It was started once (by the killed active), never again by the new one.
    const firing = new Date(interrupted[0]?.firing_at ?? 0).toISOString();
    assert.deepEqual(
      of('slow')
        .filter((s) => s.firing === firing)
        .map((s) => s.node),
      [active],
    );
    // slow takes 1.5 s at a 1 s interval: the firings during a run were skipped, not run alongside.
    assert.ok(
      slow.some((r) => r.status === 'skipped-overlap'),
      `slow: ${slow.map((r) => r.status).join(' ')}`,
    );
    assert.ok(slow.filter((r) => r.status === 'ok').every((r) => r.node === active || r.node === survivor));
    process.stdout.write(
      `# svctasks: ${all.length} runs started; slow: ${slow.map((r) => r.status[0]).join('')}\n`,
    );
  });
});
