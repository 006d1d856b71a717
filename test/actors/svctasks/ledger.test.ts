import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenRun, RunRecord, TaskLedger } from '../../../actors/svctasks/ledger.ts';
import { claim, EMPTY_LEDGER, record, recover } from '../../../actors/svctasks/ledger.ts';

/**
 * The fenced ledger's three steps as pure functions: a claim moves `last_fired` forward only for a scheduled firing
 * and opens its runs; a recorded run closes exactly its own open entry and keeps the newest `keep` runs; recovery
 * turns every open run into an `interrupted` record and keeps everything else.
 */

const open = (firing_at: number, site: string, over: Partial<OpenRun> = {}): OpenRun => ({
  firing_at,
  site,
  trigger: 'schedule',
  started_at: firing_at + 1,
  node: 'n1',
  epoch: 1,
  ...over,
});

const run = (firing_at: number, site: string | null, over: Partial<RunRecord> = {}): RunRecord => ({
  firing_at,
  site,
  trigger: 'schedule',
  status: 'ok',
  started_at: firing_at,
  finished_at: firing_at + 5,
  duration_ms: 5,
  exit_code: 0,
  output: '',
  node: 'n1',
  epoch: 1,
  ...over,
});

describe('service task ledger', () => {
  it('a scheduled claim moves last_fired forward (never back) and appends its open runs', () => {
    const first = claim(EMPTY_LEDGER, [open(100, 'west')], 100, 'schedule');
    assert.deepEqual(first, { last_fired: 100, open: [open(100, 'west')], runs: [] });
    const second = claim(first, [open(200, 'west'), open(200, 'east')], 200, 'schedule');
    assert.equal(second.last_fired, 200);
    assert.deepEqual(
      second.open.map((o) => [o.firing_at, o.site]),
      [
        [100, 'west'],
        [200, 'west'],
        [200, 'east'],
      ],
    );
    // A late claim of an older firing (a retried claim) does not move last_fired back.
    assert.equal(claim(second, [], 150, 'schedule').last_fired, 200);
    // A firing before the epoch (negative times) is still claimed from "never fired".
    assert.equal(claim(EMPTY_LEDGER, [], -5, 'schedule').last_fired, -5);
    // The runs are kept as they were.
    const withRuns: TaskLedger = { last_fired: 50, open: [], runs: [run(50, 'west')] };
    assert.deepEqual(claim(withRuns, [], 60, 'schedule').runs, [run(50, 'west')]);
  });

  it('a run-now claim opens its runs but leaves last_fired alone (set or not)', () => {
    const never = claim(EMPTY_LEDGER, [open(500, 'west', { trigger: 'run-now' })], 500, 'run-now');
    assert.equal(never.last_fired, null);
    assert.equal(never.open.length, 1);
    const fired: TaskLedger = { last_fired: 100, open: [], runs: [] };
    assert.equal(claim(fired, [], 500, 'run-now').last_fired, 100);
  });

  it('a recorded run closes only its own open entry (same firing, site and trigger) and keeps the newest keep runs', () => {
    const l: TaskLedger = {
      last_fired: 300,
      open: [
        open(300, 'west'),
        open(300, 'east'),
        open(200, 'west'),
        open(300, 'west', { trigger: 'run-now' }),
      ],
      runs: [run(100, 'west'), run(200, 'east')],
    };
    const after = record(l, run(300, 'west'), 10);
    assert.equal(after.last_fired, 300);
    assert.deepEqual(
      after.open.map((o) => [o.firing_at, o.site, o.trigger]),
      [
        [300, 'east', 'schedule'],
        [200, 'west', 'schedule'],
        [300, 'west', 'run-now'],
      ],
    );
    assert.deepEqual(
      after.runs.map((r) => r.firing_at),
      [100, 200, 300],
    );
    // Beyond keep, the oldest go first.
    const kept = record(after, run(400, 'west'), 2);
    assert.deepEqual(
      kept.runs.map((r) => r.firing_at),
      [300, 400],
    );
    // Within keep (even one short of it), every run is kept.
    assert.deepEqual(
      record(after, run(400, 'west'), 5).runs.map((r) => r.firing_at),
      [100, 200, 300, 400],
    );
    // A run with no open entry (a missed summary) closes nothing.
    assert.equal(record(l, run(300, null, { status: 'missed' }), 10).open.length, 4);
  });

  it('recover records every open run as interrupted with who claimed it, keeps last_fired and the earlier runs', () => {
    const l: TaskLedger = {
      last_fired: 300,
      open: [open(300, 'west', { node: 'old-node', epoch: 7 }), open(250, 'east', { trigger: 'run-now' })],
      runs: [run(100, 'west'), run(200, 'west')],
    };
    const r = recover(l, 9_000, 3);
    assert.equal(r.interrupted, 2);
    assert.equal(r.ledger.last_fired, 300);
    assert.deepEqual(r.ledger.open, []);
    // keep = 3: the oldest earlier run makes room.
    assert.deepEqual(
      r.ledger.runs.map((x) => [x.firing_at, x.site, x.trigger, x.status]),
      [
        [200, 'west', 'schedule', 'ok'],
        [300, 'west', 'schedule', 'interrupted'],
        [250, 'east', 'run-now', 'interrupted'],
      ],
    );
    assert.deepEqual(r.ledger.runs[1], {
      firing_at: 300,
      site: 'west',
      trigger: 'schedule',
      status: 'interrupted',
      started_at: 301,
      finished_at: 9_000,
      duration_ms: null,
      exit_code: null,
      output: '',
      error: "claimed by old-node at epoch 7, which stopped before the run's outcome was recorded",
      node: 'old-node',
      epoch: 7,
    });
    // Nothing open: nothing changes.
    const calm: TaskLedger = { last_fired: 5, open: [], runs: [run(5, 'west')] };
    assert.deepEqual(recover(calm, 9_000, 3), { ledger: calm, interrupted: 0 });
  });
});
