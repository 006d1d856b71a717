import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import type { FarmStatus, MigrationSummary } from '../../actors/freeswitch/protocol.ts';
import { registerFsMetrics } from '../../src/metrics/fs-metrics.ts';
import { hostStatus } from '../support/fs-stand-in.ts';

const summary = (id: string, o: Partial<MigrationSummary> = {}): MigrationSummary => ({
  id,
  kind: 'migrate',
  source: 'fs01',
  phase: 'done',
  started_at: 1_000,
  finished_at: 40_000,
  calls: 3,
  moved: 2,
  lost: 1,
  failed: 0,
  recreate_ms: 640,
  epoch: 7,
  ...o,
});

function farm(recent: MigrationSummary[], epoch: number | null = 7): FarmStatus {
  return {
    hosts: [
      hostStatus('fs01', { channels: 12, sessions: 6 }),
      hostStatus('fs02', { state: 'down', paused: true, channels: 0 }),
    ],
    active: null,
    problems: [],
    recent,
    epoch,
  };
}

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

it('fs metrics: each host as the migrator sees it when scraped; no series while it does not answer', async () => {
  const r = new Registry();
  let answer: FarmStatus | undefined = farm([]);
  let asked = 0;
  registerFsMetrics(r, async () => {
    asked++;
    return answer;
  });
  const text = await r.metrics();
  assert.equal(value(text, 'mware_fs_host_up{host="fs01"}'), 1);
  assert.equal(value(text, 'mware_fs_host_up{host="fs02"}'), 0);
  assert.equal(value(text, 'mware_fs_channels{host="fs01"}'), 12);
  assert.equal(value(text, 'mware_fs_sessions{host="fs01"}'), 6);
  assert.equal(value(text, 'mware_fs_paused{host="fs02"}'), 1);
  assert.equal(value(text, 'mware_fs_paused{host="fs01"}'), 0);
  // Every series of one scrape shares one ask.
  assert.equal(asked, 1);
  answer = undefined;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.doesNotMatch(await r.metrics(), /^mware_fs_(host_up|channels|sessions|paused)\{/m);
});

it('fs metrics: a finished migration is counted once, by the node whose leadership term finished it', async () => {
  const r = new Registry();
  let answer: FarmStatus = farm([
    summary('old', { kind: 'failover', epoch: 5 }),
    summary('m1', { recreate_ms: 640 }),
  ]);
  registerFsMetrics(r, async () => answer);
  const scrape = async () => {
    // Past the window in which one scrape's ask is shared.
    await new Promise((resolve) => setTimeout(resolve, 260));
    return r.metrics();
  };
  let text = await r.metrics();
  assert.equal(value(text, 'mware_fs_migrations_total{kind="migrate",phase="done"}'), 1);
  // Decided by the group's previous active instance (epoch 5): counted there, not here.
  assert.equal(value(text, 'mware_fs_migrations_total{kind="failover",phase="done"}'), 0);
  assert.equal(value(text, 'mware_fs_migrated_calls_total{outcome="moved"}'), 2);
  assert.equal(value(text, 'mware_fs_migrated_calls_total{outcome="lost"}'), 1);
  assert.equal(value(text, 'mware_fs_migrated_calls_total{outcome="failed"}'), 0);
  assert.equal(value(text, 'mware_fs_migration_recreate_seconds_count{kind="migrate"}'), 1);
  assert.equal(value(text, 'mware_fs_migration_recreate_seconds_sum{kind="migrate"}'), 0.64);
  assert.equal(value(text, 'mware_fs_migration_recreate_seconds_bucket{le="1",kind="migrate"}'), 1);

  text = await scrape();
  assert.equal(value(text, 'mware_fs_migrations_total{kind="migrate",phase="done"}'), 1, 'not counted twice');
  assert.equal(value(text, 'mware_fs_migrated_calls_total{outcome="moved"}'), 2);

  answer = farm([
    ...answer.recent,
    summary('d1', {
      kind: 'drain',
      phase: 'failed',
      moved: 0,
      lost: 0,
      failed: 4,
      calls: 4,
      recreate_ms: null,
    }),
  ]);
  text = await scrape();
  assert.equal(value(text, 'mware_fs_migrations_total{kind="drain",phase="failed"}'), 1);
  assert.equal(value(text, 'mware_fs_migrated_calls_total{outcome="failed"}'), 4);
  assert.equal(value(text, 'mware_fs_migration_recreate_seconds_count{kind="drain"}'), undefined);

  // Not leading (epoch null): nothing is counted, whatever the list holds.
  answer = farm([...answer.recent, summary('m2')], null);
  text = await scrape();
  assert.equal(value(text, 'mware_fs_migrations_total{kind="migrate",phase="done"}'), 1);
});

it('fs metrics: a node whose farm never answered shows no farm series at all', async () => {
  const r = new Registry();
  registerFsMetrics(r, async () => {
    throw new Error('no /freeswitch/migrator here');
  });
  assert.doesNotMatch(await r.metrics(), /^mware_fs_\w+[{ ]/m);
});
