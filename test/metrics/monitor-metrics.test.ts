import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import type { MonitorStatus } from '../../actors/monitors/protocol.ts';
import { registerMonitorMetrics } from '../../src/metrics/monitor-metrics.ts';

const base = { interval_ms: 1000, confirm: 2, rounds: 5, last_round: null, last_round_ms: null };
const condition = (key: string, failing: boolean, raised: boolean) => ({
  key,
  failing,
  raised,
  failures: failing ? 2 : 0,
  message: key,
});
const STATUS: Record<string, MonitorStatus> = {
  sg: {
    ...base,
    name: 'sg',
    kind: 'sg',
    conditions: [
      condition('sg-lost:a', true, true),
      condition('sg-lost:b', true, false),
      condition('sg-lost:c', false, false),
    ],
    detail: { deleted_total: 42, purges: [], pending: [] },
  },
  megaco: {
    ...base,
    name: 'megaco',
    kind: 'megaco',
    conditions: [condition('megaco-down:x:y', false, false)],
    detail: {},
  },
};

it("shows each monitor's conditions by state and an sg monitor's deletions, one ask per monitor and scrape", async () => {
  const r = new Registry();
  const asks: string[] = [];
  registerMonitorMetrics(r, ['sg', 'megaco', 'absent'], async (name) => {
    asks.push(name);
    return STATUS[name];
  });
  const text = await r.metrics();
  assert.match(text, /^mware_monitor_conditions\{monitor="sg",kind="sg",state="raised"\} 1$/m);
  assert.match(text, /^mware_monitor_conditions\{monitor="sg",kind="sg",state="failing"\} 1$/m);
  assert.match(text, /^mware_monitor_conditions\{monitor="sg",kind="sg",state="ok"\} 1$/m);
  assert.match(text, /^mware_monitor_conditions\{monitor="megaco",kind="megaco",state="ok"\} 1$/m);
  assert.match(text, /^mware_monitor_registrations_deleted\{monitor="sg"\} 42$/m);
  assert.doesNotMatch(text, /monitor="absent"|registrations_deleted\{monitor="megaco"\}/);
  assert.deepEqual(asks.sort(), ['absent', 'megaco', 'sg']);
});
