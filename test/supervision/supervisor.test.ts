import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { askPath } from '../../src/actor-system/actor-ref.ts';
import type { SupervisorFlags } from '../../src/supervision/spec.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
import { flushMicrotasks } from '../../src/supervision/clock.ts';
import { supervisorChild } from '../../src/supervision/supervisor-child.ts';
import type { ChildSpec, RestartType } from '../../src/supervision/spec.ts';
import type { FakeOptions, World } from '../support/fake-child.ts';
import { fakeSpec, liveChild, world } from '../support/fake-child.ts';

type FlagInput = Parameters<typeof compileFlags>[0];

function supervisor(w: World, specs: ChildSpec[], flags: FlagInput = {}, path = '/sup'): Supervisor {
  const f: SupervisorFlags = compileFlags({ intensity: 10, periodMs: 5_000, ...flags });
  return new Supervisor(path, f, specs, w.env);
}

const settle = (w: World) => w.clock.advance(0);

/** Starts `s` when its children take `ms` of the manual clock to start. */
async function startWithin(w: World, s: Supervisor, ms: number): Promise<void> {
  const starting = s.start();
  await w.clock.advance(ms);
  await starting;
}
const specs = (w: World, ids: string[], o: FakeOptions = {}) => ids.map((id) => fakeSpec(w, id, o));

describe('a supervisor, ordering', () => {
  it('starts children in spec order, each fully initialised before the next begins', async () => {
    const w = world();
    const s = supervisor(w, [
      fakeSpec(w, 'a', { startMs: 100 }),
      fakeSpec(w, 'b', { startMs: 50 }),
      fakeSpec(w, 'c'),
    ]);
    const started = s.start();
    await w.clock.advance(99);
    assert.deepEqual(w.timeline, ['begin:a'], 'b must not begin while a initialises');
    await w.clock.advance(200);
    await started;
    assert.deepEqual(w.timeline, ['begin:a', 'start:a', 'begin:b', 'start:b', 'begin:c', 'start:c']);
  });

  it('stops children in reverse start order', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b', 'c']));
    await s.start();
    w.timeline.length = 0;
    await s.stop('infinity');
    assert.deepEqual(w.timeline, ['stop:c', 'stop:b', 'stop:a']);
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
  });

  it('fails to start when a child fails to start, after stopping the children already started in reverse order', async () => {
    const w = world();
    const s = supervisor(w, [
      fakeSpec(w, 'a'),
      fakeSpec(w, 'b'),
      fakeSpec(w, 'c', { failStart: true }),
      fakeSpec(w, 'd'),
    ]);
    await assert.rejects(
      s.start(),
      (e: Error & { code?: string }) =>
        e.code === 'MW_ERR_ACTOR_START_FAILED' && /child c failed to start/.test(e.message),
    );
    assert.deepEqual(w.timeline, [
      'begin:a',
      'start:a',
      'begin:b',
      'start:b',
      'begin:c',
      'fail-start:c',
      'stop:b',
      'stop:a',
    ]);
    assert.equal((await s.exited).kind, 'failed');
  });
});

describe('a supervisor, strategies', () => {
  it('one_for_one restarts only the child that failed', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b', 'c']), { strategy: 'one_for_one' });
    await s.start();
    w.timeline.length = 0;
    liveChild(w, 'b').crash();
    await settle(w);
    assert.deepEqual(w.timeline, ['begin:b', 'start:b']);
    assert.deepEqual(
      [...w.starts.entries()],
      [
        ['a', 1],
        ['b', 2],
        ['c', 1],
      ],
    );
  });

  it('one_for_all stops the other children in reverse order, then restarts all of them in start order', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b', 'c']), { strategy: 'one_for_all' });
    await s.start();
    w.timeline.length = 0;
    liveChild(w, 'b').crash();
    await settle(w);
    assert.deepEqual(w.timeline, [
      'stop:c',
      'stop:a',
      'begin:a',
      'start:a',
      'begin:b',
      'start:b',
      'begin:c',
      'start:c',
    ]);
  });

  it('rest_for_one restarts the failed child and those started after it, not those before', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b', 'c', 'd']), { strategy: 'rest_for_one' });
    await s.start();
    w.timeline.length = 0;
    liveChild(w, 'b').crash();
    await settle(w);
    assert.deepEqual(w.timeline, [
      'stop:d',
      'stop:c',
      'begin:b',
      'start:b',
      'begin:c',
      'start:c',
      'begin:d',
      'start:d',
    ]);
    assert.equal(w.starts.get('a'), 1);
  });
});

describe('a supervisor, restart types', () => {
  /** After each way the child ends: how many times it has started, and its state (undefined: forgotten). */
  type Step = { ends: 'normally' | 'crashing'; starts: number; state: 'running' | 'stopped' | undefined };
  const RESTART_TYPES: { restart: RestartType; rule: string; steps: Step[] }[] = [
    {
      restart: 'permanent',
      rule: 'restarts a permanent child whatever way it ended',
      steps: [
        { ends: 'normally', starts: 2, state: 'running' },
        { ends: 'crashing', starts: 3, state: 'running' },
      ],
    },
    {
      restart: 'transient',
      rule: 'restarts a transient child after an abnormal exit only, and keeps it stopped after a normal one',
      steps: [
        { ends: 'crashing', starts: 2, state: 'running' },
        { ends: 'normally', starts: 2, state: 'stopped' },
      ],
    },
    {
      restart: 'temporary',
      rule: 'never restarts a temporary child that crashed, and forgets it',
      steps: [{ ends: 'crashing', starts: 1, state: undefined }],
    },
    {
      restart: 'temporary',
      rule: 'never restarts a temporary child that ended normally, and forgets it',
      steps: [{ ends: 'normally', starts: 1, state: undefined }],
    },
  ];

  for (const { restart, rule, steps } of RESTART_TYPES) {
    it(rule, async () => {
      const w = world();
      const s = supervisor(w, [fakeSpec(w, 'c', { restart }), fakeSpec(w, 'sibling')]);
      await s.start();
      for (const [i, step] of steps.entries()) {
        const child = liveChild(w, 'c');
        if (step.ends === 'normally') child.exitNormally();
        else child.crash();
        await w.clock.advance(60_000); // past any backoff
        const what = `${restart}, step ${i + 1} (ended ${step.ends})`;
        assert.equal(w.starts.get('c'), step.starts, what);
        assert.equal(s.child('c')?.state, step.state, what);
        if (step.state === undefined) assert.equal(w.env.directory.get('/sup/c'), undefined, what);
        else assert.equal(w.live.has('c'), step.state === 'running', what);
        assert.equal(w.starts.get('sibling'), 1, `${what}: the sibling is left alone`);
      }
      assert.ok(s.running, 'still running');
    });
  }
});

describe('a supervisor, restart intensity and backoff', () => {
  it('escalates on the restart beyond its intensity: it stops its children and fails with MW_ERR_RESTART_INTENSITY', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b']), {
      intensity: 2,
      periodMs: 5_000,
      backoff: { initialMs: 100 },
    });
    await s.start();
    liveChild(w, 'a').crash('first');
    await settle(w);
    liveChild(w, 'a').crash('second');
    await w.clock.advance(100); // second consecutive restart waits 100 ms
    assert.equal(w.starts.get('a'), 3);
    w.timeline.length = 0;
    liveChild(w, 'a').crash('third');
    const exit = await s.exited;
    assert.equal(exit.kind, 'failed');
    assert.equal(exit.kind === 'failed' ? exit.error.code : '', 'MW_ERR_RESTART_INTENSITY');
    assert.match(
      exit.kind === 'failed' ? exit.error.message : '',
      /more than 2 restart\(s\) in 5000 ms; last failure: \/sup\/a: third/,
    );
    assert.deepEqual(
      w.timeline,
      ['stop:b'],
      'the other children are stopped, the failed one is not restarted',
    );
    assert.equal(w.events.filter((e) => e.type === 'escalated').length, 1);
  });

  it('counts only the restarts within the period', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), {
      intensity: 1,
      periodMs: 1_000,
      backoff: { resetAfterMs: 500 },
    });
    await s.start();
    for (let i = 0; i < 5; i++) {
      liveChild(w, 'a').crash();
      await settle(w);
      await w.clock.advance(1_000);
    }
    assert.equal(w.starts.get('a'), 6);
    assert.ok(s.running, 'still running');
  });

  it('restarts at once the first time, then waits longer and longer (with jitter) up to the maximum', async () => {
    const w = world();
    w.env.random = () => 1; // +jitter at its largest
    const s = supervisor(w, specs(w, ['a']), {
      intensity: 100,
      periodMs: 60_000,
      backoff: { initialMs: 100, factor: 2, maxMs: 500, jitter: 0.2 },
    });
    await s.start();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      liveChild(w, 'a').crash();
      const before = w.starts.get('a') ?? 0;
      let waited = 0;
      await settle(w);
      while ((w.starts.get('a') ?? 0) === before) {
        await w.clock.advance(10);
        waited += 10;
      }
      waits.push(waited);
    }
    assert.deepEqual(waits, [0, 120, 240, 480, 500, 500]);
    const restarted = w.events
      .filter((e) => e.type === 'restarted')
      .map((e) => (e.type === 'restarted' ? e.delayMs : -1));
    assert.deepEqual(restarted, [0, 120, 240, 480, 500, 500]);
  });

  it('starts the backoff over once a child has run for resetAfterMs', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), {
      intensity: 100,
      periodMs: 60_000,
      backoff: { initialMs: 100, resetAfterMs: 1_000, jitter: 0 },
    });
    await s.start();
    liveChild(w, 'a').crash();
    await settle(w);
    liveChild(w, 'a').crash();
    await w.clock.advance(100);
    assert.equal(w.starts.get('a'), 3);
    await w.clock.advance(1_000);
    liveChild(w, 'a').crash();
    await settle(w);
    assert.equal(w.starts.get('a'), 4, 'after a stable run the next restart is immediate again');
  });

  it('counts a restart that cannot start as one more failure, so backoff and intensity apply to it', async () => {
    const w = world();
    const attempts: number[] = [];
    const s = supervisor(w, [fakeSpec(w, 'a', { failStart: (n) => (attempts.push(w.clock.now()), n > 1) })], {
      intensity: 3,
      periodMs: 60_000,
      backoff: { initialMs: 100, jitter: 0 },
    });
    await s.start();
    const crashedAt = w.clock.now();
    liveChild(w, 'a').crash();
    await w.clock.advance(10_000);
    const exit = await s.exited;
    assert.equal(exit.kind === 'failed' ? exit.error.code : exit.kind, 'MW_ERR_RESTART_INTENSITY');
    assert.equal(w.starts.get('a'), 4, 'one start and three failed restarts');
    assert.deepEqual(
      attempts.slice(1).map((t) => t - crashedAt),
      [0, 100, 300],
      'each failed restart waits longer before the next',
    );
    assert.deepEqual(
      w.events.filter((e) => e.type === 'failed').map((e) => e.path),
      ['/sup/a', '/sup/a', '/sup/a', '/sup/a'],
    );
    await w.clock.advance(60_000);
    assert.equal(w.starts.get('a'), 4, 'once escalated it is never tried again');
  });
});

describe('a supervisor, messages during restarts', () => {
  it('holds messages sent while a child restarts and delivers them in order to the new incarnation', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { startMs: 50 })], { backoff: { initialMs: 100 } });
    await startWithin(w, s, 50);
    liveChild(w, 'a').crash();
    const replies = [1, 2, 3].map((n) => askPath(w.env.directory, '/sup/a', 'n', n, 5_000));
    await w.clock.advance(60);
    const got = (await Promise.all(replies)) as { generation: number; payload: number }[];
    assert.deepEqual(
      got.map((r) => [r.generation, r.payload]),
      [
        [2, 1],
        [2, 2],
        [2, 3],
      ],
    );
    assert.deepEqual(
      liveChild(w, 'a').received.map((m) => m.payload),
      [1, 2, 3],
    );
  });

  it('fails a message at once with MW_ERR_ACTOR_UNAVAILABLE when the restart buffer is full', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { startMs: 50, buffer: { max: 2 } })]);
    await startWithin(w, s, 50);
    liveChild(w, 'a').crash();
    const held = [askPath(w.env.directory, '/sup/a', 'n', 1), askPath(w.env.directory, '/sup/a', 'n', 2)];
    await assert.rejects(
      askPath(w.env.directory, '/sup/a', 'n', 3),
      (e: Error & { code?: string }) =>
        e.code === 'MW_ERR_ACTOR_UNAVAILABLE' && /buffer is full/.test(e.message),
    );
    await w.clock.advance(50);
    assert.equal((await Promise.all(held)).length, 2);
  });

  it('fails a held message after the buffer’s longest wait instead of leaving it hanging', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { startMs: 10, failStart: (n) => n === 2 })], {
      backoff: { initialMs: 10_000, jitter: 0 },
      buffer: { maxWaitMs: 1_000 },
    });
    await startWithin(w, s, 10);
    liveChild(w, 'a').crash();
    await w.clock.advance(20); // the immediate restart fails; the next waits 10 s
    const late = askPath(w.env.directory, '/sup/a', 'n', 1, 30_000);
    const outcome = late.then(
      () => 'answered',
      (e: Error & { code?: string }) => e.code,
    );
    await w.clock.advance(1_000);
    assert.equal(await outcome, 'MW_ERR_ACTOR_UNAVAILABLE');
  });

  it('fails held messages when the child will not come back', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { startMs: 10, failStart: (n) => n > 1 })], {
      intensity: 1,
      backoff: { initialMs: 100 },
    });
    await startWithin(w, s, 10);
    liveChild(w, 'a').crash();
    const msg = askPath(w.env.directory, '/sup/a', 'n', 1, 30_000).then(
      () => 'answered',
      (e: Error & { code?: string }) => e.code,
    );
    await w.clock.advance(500);
    assert.equal(await msg, 'MW_ERR_ACTOR_UNAVAILABLE');
    assert.equal((await s.exited).kind, 'failed');
  });

  it('makes messages for a path under a restarting supervisor wait for it', async () => {
    const w = world();
    const inner = supervisorChild({
      id: 'inner',
      flags: { intensity: 0 },
      children: [fakeSpec(w, 'x', { startMs: 30 })],
    });
    const outer = supervisor(w, [inner], { intensity: 5 });
    await startWithin(w, outer, 30);
    liveChild(w, 'x').crash(); // intensity 0: inner escalates, outer restarts it with a fresh x
    await settle(w);
    const reply = askPath(w.env.directory, '/sup/inner/x', 'ping', null, 5_000) as Promise<{
      generation: number;
    }>;
    await w.clock.advance(30);
    assert.equal((await reply).generation, 2);
    assert.equal(w.events.filter((e) => e.type === 'escalated' && e.path === '/sup/inner').length, 1);
    assert.equal(outer.child('inner')?.restarts, 1);
  });
});

describe('a supervisor, dynamic children and operator actions', () => {
  it('starts one child per id even when several callers ask for it at once', async () => {
    const w = world();
    const s = supervisor(w, [], { strategy: 'simple_one_for_one' });
    await s.start();
    const spec = fakeSpec(w, 'k', { startMs: 20 });
    const all = Promise.all([s.ensureChild(spec), s.ensureChild(spec), s.ensureChild(spec)]);
    await w.clock.advance(20);
    const records = await all;
    assert.equal(new Set(records).size, 1);
    assert.equal(w.starts.get('k'), 1);
  });

  it('forgets a dynamic child that ended normally, and revives one when a message arrives as it winds down', async () => {
    const w = world();
    const s = supervisor(w, [], { strategy: 'simple_one_for_one' });
    await s.start();
    await s.startChild(fakeSpec(w, 'idle', { restart: 'transient', reviveOnMessage: true }));
    liveChild(w, 'idle').exitNormally();
    const reply = askPath(w.env.directory, '/sup/idle', 'hello', null, 5_000) as Promise<{
      generation: number;
    }>;
    await settle(w);
    assert.equal((await reply).generation, 2, 'the message started it again');
    liveChild(w, 'idle').exitNormally();
    await settle(w);
    assert.equal(s.child('idle'), undefined, 'with nothing waiting it is forgotten');
  });

  it('restarts a child on an operator’s request without counting it against intensity', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), { intensity: 0 });
    await s.start();
    await s.restartChild('a');
    await s.restartChild('a');
    assert.equal(w.starts.get('a'), 3);
    assert.ok(s.running, 'still running');
    assert.deepEqual(
      w.events.filter((e) => e.type === 'restarted').map((e) => e.type === 'restarted' && e.manual),
      [true, true],
    );
  });

  it('stops and starts a static child on request, keeping it in place', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b']));
    await s.start();
    await s.terminateChild('a');
    assert.equal(s.child('a')?.state, 'stopped');
    await assert.rejects(
      askPath(w.env.directory, '/sup/a', 'x', null),
      (e: Error & { code?: string }) => e.code === 'MW_ERR_ACTOR_UNAVAILABLE',
    );
    await s.startStopped('a');
    assert.equal(s.child('a')?.state, 'running');
    assert.deepEqual(
      s.children().map((r) => r.id),
      ['a', 'b'],
    );
  });

  it('forgets a stopped child on request (delete_child), so it can be added afresh, and refuses a running one', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b']));
    await s.start();
    await assert.rejects(
      s.deleteChild('a'),
      (e: Error & { code?: string }) => e.code === 'MW_ERR_SUPERVISOR_REFUSED',
    );
    await s.terminateChild('a');
    await s.deleteChild('a');
    assert.equal(s.child('a'), undefined, 'forgotten');
    assert.equal(w.env.directory.get('/sup/a'), undefined, 'no longer addressable');
    await s.startChild(fakeSpec(w, 'a'));
    assert.deepEqual(
      s.children().map((r) => [r.id, r.state]),
      [
        ['b', 'running'],
        ['a', 'running'],
      ],
    );
  });

  it('shuts itself down when a significant child ends, with auto_shutdown any_significant', async () => {
    const w = world();
    const s = supervisor(
      w,
      [fakeSpec(w, 'main', { restart: 'transient', significant: true }), fakeSpec(w, 'helper')],
      { autoShutdown: 'any_significant' },
    );
    await s.start();
    liveChild(w, 'main').exitNormally();
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
    assert.equal(w.live.size, 0);
  });
});

describe('a supervisor, inspection', () => {
  it('reports every change on one event stream, and a tree with state, restarts and last error', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']));
    await s.start();
    liveChild(w, 'a').crash('boom');
    await settle(w);
    assert.deepEqual(
      w.events
        .filter((e) => e.path === '/sup/a')
        .map((e) => (e.type === 'state-changed' ? `${e.from}->${e.to}` : e.type)),
      [
        'started',
        'starting->running',
        'failed',
        'running->restarting',
        'started',
        'restarting->running',
        'restarted',
      ],
    );
    const [node] = s.inspectChildren();
    assert.equal(node?.state, 'running');
    assert.equal(node?.restarts, 1);
    assert.equal(node?.lastError?.message, 'boom');
    assert.equal(node?.restartTimes.length, 1);
  });
});

/** The state changes of one child, as `from->to`. */
const stateChanges = (w: World, path: string) =>
  w.events.flatMap((e) => (e.type === 'state-changed' && e.path === path ? [`${e.from}->${e.to}`] : []));

/** Why `s` refuses a new child, or 'accepted'. */
async function refusal(w: World, s: Supervisor): Promise<string> {
  return s.startChild(fakeSpec(w, 'late')).then(
    () => 'accepted',
    (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
  );
}

/** Makes `s` busy for `ms` with the start of another child, so that what it is told meanwhile waits its turn. */
function busyFor(w: World, s: Supervisor, ms: number): Promise<unknown> {
  return s.startChild(fakeSpec(w, `busy${ms}`, { startMs: ms }));
}

/** Settles to 'resolved' or the rejection's code and message. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
  );

describe('a supervisor, stopping and killing', () => {
  it('gives each child its own shutdown time, and with infinity waits as long as the child takes', async () => {
    const w = world();
    const s = supervisor(w, [
      fakeSpec(w, 'a', { shutdown: 'infinity', stopMs: 10_000 }),
      fakeSpec(w, 'b', { shutdown: 250 }),
    ]);
    await s.start();
    const [a, b] = [liveChild(w, 'a'), liveChild(w, 'b')];
    let stopped = false;
    const stopping = s.stop('infinity').then(() => (stopped = true));
    await w.clock.advance(9_999);
    assert.equal(stopped, false);
    assert.ok(w.live.has('a'), 'a is still stopping gracefully');
    await w.clock.advance(1);
    await stopping;
    assert.deepEqual([a.stoppedWith, b.stoppedWith], ['infinity', 250]);
    assert.deepEqual(w.timeline.slice(-2), ['stop:b', 'stop:a'], 'nobody was killed');
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
  });

  it('kills the children still there when its own shutdown time runs out', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { stopMs: Infinity }), fakeSpec(w, 'b', { stopMs: Infinity })]);
    await s.start();
    w.timeline.length = 0;
    let stopped = false;
    const stopping = s.stop(100).then(() => (stopped = true));
    await w.clock.advance(99);
    assert.equal(stopped, false);
    assert.deepEqual(w.timeline, ['stop:b']);
    await w.clock.advance(1);
    await stopping;
    assert.deepEqual(w.timeline, ['stop:b', 'kill:b', 'kill:a']);
    assert.equal(w.live.size, 0);
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
    assert.equal(s.running, false);
  });

  it('with brutal_kill kills its children in reverse order at once, without asking them to stop', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b', 'c'], { stopMs: Infinity }));
    await s.start();
    w.timeline.length = 0;
    await s.stop('brutal_kill');
    assert.deepEqual(w.timeline, ['kill:c', 'kill:b', 'kill:a']);
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
    assert.deepEqual(
      s.children().map((r) => r.state),
      ['stopped', 'stopped', 'stopped'],
    );
  });

  it('when killed, kills every live child in reverse order, including one being stopped, and keeps none running', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a'), fakeSpec(w, 'b'), fakeSpec(w, 'c', { stopMs: Infinity })]);
    await s.start();
    await s.terminateChild('b');
    void s.terminateChild('c');
    await settle(w);
    assert.equal(s.child('c')?.state, 'stopping');
    w.timeline.length = 0;
    s.kill();
    assert.deepEqual(w.timeline, ['kill:c', 'kill:a']);
    assert.equal(w.live.size, 0);
    assert.deepEqual(
      s.children().map((r) => r.state),
      ['stopped', 'stopped', 'stopped'],
    );
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
    await assert.rejects(
      askPath(w.env.directory, '/sup/a', 'x', null),
      (e: Error & { code?: string }) => e.code === 'MW_ERR_ACTOR_UNAVAILABLE',
    );
    await s.stop(1000);
    s.kill();
    assert.deepEqual(
      s.children().map((r) => [r.id, r.state]),
      [
        ['a', 'stopped'],
        ['b', 'stopped'],
        ['c', 'stopped'],
      ],
      'a stop or kill after the kill changes nothing',
    );
    assert.deepEqual(w.timeline, ['kill:c', 'kill:a']);
  });

  it('kills a child that finishes starting after its supervisor was killed', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { startMs: 100 }), fakeSpec(w, 'b')]);
    const starting = outcome(s.start());
    await w.clock.advance(50);
    s.kill();
    await w.clock.advance(50);
    assert.equal(await starting, 'MW_ERR_ACTOR_START_FAILED: /sup: child a failed to start: /sup is stopped');
    assert.deepEqual(w.timeline, ['begin:a', 'start:a', 'kill:a']);
    assert.equal(w.live.size, 0);
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
    assert.match(await refusal(w, s), /\/sup is stopped$/);
  });

  it('kills a child whose restart was under way when its supervisor was killed', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { startMs: 100 })]);
    await startWithin(w, s, 100);
    liveChild(w, 'a').crash();
    await w.clock.advance(50);
    s.kill();
    await w.clock.advance(50);
    assert.equal(w.starts.get('a'), 2);
    assert.equal(w.live.size, 0, 'the restarted incarnation is killed as soon as it exists');
    assert.equal(w.timeline.at(-1), 'kill:a');
  });

  it('stops static children one after another in reverse order, dynamic ones all at once', async () => {
    const w = world();
    const fixed = supervisor(w, specs(w, ['a', 'b', 'c'], { stopMs: 100 }));
    await fixed.start();
    w.timeline.length = 0;
    const stopped = fixed.stop('infinity');
    await w.clock.advance(150);
    assert.deepEqual(w.timeline, ['stop:c', 'stop:b']);
    await w.clock.advance(150);
    await stopped;
    assert.deepEqual(w.timeline, ['stop:c', 'stop:b', 'stop:a']);

    const dynamic = supervisor(w, [], { strategy: 'simple_one_for_one' }, '/dyn');
    await dynamic.start();
    for (const id of ['x', 'y', 'z']) await dynamic.startChild(fakeSpec(w, id, { stopMs: 100 }));
    w.timeline.length = 0;
    let over = false;
    void dynamic.exited.then(() => (over = true));
    const all = dynamic.stop('infinity');
    await w.clock.advance(99);
    assert.deepEqual(w.timeline, ['stop:z', 'stop:y', 'stop:x'], 'all asked at once');
    assert.equal(over, false, 'it waits for them');
    assert.deepEqual([...w.live.keys()].sort(), ['x', 'y', 'z']);
    await w.clock.advance(1);
    await all;
    assert.equal(over, true);
    assert.equal(w.live.size, 0);
  });

  it('neither restarts nor revives a child that ends while its supervisor stops, and reports how it ended', async () => {
    const w = world();
    const s = supervisor(w, [
      fakeSpec(w, 'a'),
      fakeSpec(w, 'b', { restart: 'transient', reviveOnMessage: true }),
      fakeSpec(w, 'c', { stopMs: 100 }),
    ]);
    await s.start();
    const stopped = s.stop('infinity');
    await settle(w);
    liveChild(w, 'a').crash('late crash');
    liveChild(w, 'b').exitNormally();
    await settle(w);
    assert.deepEqual([s.child('a')?.state, s.child('b')?.state], ['failed', 'stopped']);
    await w.clock.advance(100);
    await stopped;
    assert.deepEqual([w.starts.get('a'), w.starts.get('b')], [1, 1]);
    assert.equal(stateChanges(w, '/sup/a').at(-1), 'running->failed', 'it stays failed');
    assert.equal(stateChanges(w, '/sup/b').at(-1), 'running->stopped');
  });

  it('takes a stop during start-up between children: those not yet begun never start, later requests are refused', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { startMs: 100, stopMs: 100 }), fakeSpec(w, 'b')]);
    const starting = s.start();
    await w.clock.advance(50);
    const late = refusal(w, s); // waits its turn behind the start
    const stopping = s.stop('infinity');
    await w.clock.advance(50);
    await starting;
    assert.equal(s.running, false, 'it is stopping, not running');
    assert.equal(await late, 'MW_ERR_SUPERVISOR_REFUSED: /sup is stopping');
    await w.clock.advance(100);
    await stopping;
    assert.deepEqual(w.timeline, ['begin:a', 'start:a', 'stop:a']);
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
  });

  it('refuses new children once it has ended, telling whether it stopped or failed, and its end stands', async () => {
    const w = world();
    const stopped = supervisor(w, specs(w, ['a']));
    await stopped.start();
    await stopped.stop(1000);
    assert.equal(stopped.running, false);
    assert.equal(await refusal(w, stopped), 'MW_ERR_SUPERVISOR_REFUSED: /sup is stopped');
    await assert.rejects(stopped.restartChild('a'), /\/sup is stopped/);

    const killed = supervisor(w, [], {}, '/killed');
    await killed.start();
    killed.kill();
    assert.match(await refusal(w, killed), /\/killed is stopped$/);

    const failed = supervisor(w, [fakeSpec(w, 'f')], { intensity: 0 }, '/failed');
    await failed.start();
    liveChild(w, 'f').crash();
    assert.equal((await failed.exited).kind, 'failed');
    await failed.stop(1000);
    failed.kill();
    await failed.stop('brutal_kill');
    assert.match(await refusal(w, failed), /\/failed is failed$/, 'a failed supervisor stays failed');
  });
});

describe('a supervisor, deciding on an exit', () => {
  const CASES: {
    restart: RestartType;
    revive?: boolean;
    ends: 'normally' | 'crashing';
    state: string;
  }[] = [
    { restart: 'permanent', ends: 'normally', state: 'restarting' },
    { restart: 'permanent', ends: 'crashing', state: 'restarting' },
    { restart: 'transient', ends: 'crashing', state: 'restarting' },
    { restart: 'transient', ends: 'normally', state: 'running' },
    { restart: 'temporary', ends: 'crashing', state: 'running' },
    { restart: 'temporary', ends: 'normally', state: 'running' },
    { restart: 'transient', revive: true, ends: 'normally', state: 'stopping' },
    { restart: 'transient', revive: true, ends: 'crashing', state: 'restarting' },
    { restart: 'temporary', revive: true, ends: 'crashing', state: 'running' },
  ];
  for (const { restart, revive, ends, state } of CASES) {
    it(`shows a ${restart} child${revive ? ' that revives on message' : ''} ending ${ends} as ${state} before its turn comes`, async () => {
      const w = world();
      const s = supervisor(w, [fakeSpec(w, 'c', { restart, reviveOnMessage: revive })]);
      await s.start();
      const busy = busyFor(w, s, 100);
      const child = liveChild(w, 'c');
      if (ends === 'normally') child.exitNormally();
      else child.crash();
      await settle(w);
      assert.equal(s.child('c')?.state, state);
      await w.clock.advance(100);
      await busy;
    });
  }

  it('restarts a child that crashed while its later siblings were still starting, once the start-up is done', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a'), fakeSpec(w, 'b', { startMs: 100 })]);
    const starting = s.start();
    await w.clock.advance(10);
    liveChild(w, 'a').crash();
    await w.clock.advance(90);
    await starting;
    await settle(w);
    assert.equal(w.starts.get('a'), 2);
    assert.equal(s.child('a')?.state, 'running');
  });

  it('neither restarts nor escalates for an exit it comes to only after it began to stop', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), { intensity: 0 });
    await s.start();
    const busy = busyFor(w, s, 100);
    liveChild(w, 'a').crash();
    await settle(w);
    const stopped = s.stop('infinity');
    await w.clock.advance(100);
    await busy;
    await stopped;
    assert.equal(w.starts.get('a'), 1);
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
    assert.equal(w.events.filter((e) => e.type === 'escalated').length, 0);
  });

  it('does not restart a dynamic child stopped on request before it came to the child’s crash', async () => {
    const w = world();
    const s = supervisor(w, [], { strategy: 'simple_one_for_one' });
    await s.start();
    await s.startChild(fakeSpec(w, 'k'));
    const busy = busyFor(w, s, 100);
    const terminated = s.terminateChild('k');
    liveChild(w, 'k').crash();
    await w.clock.advance(100);
    await busy;
    await terminated;
    await settle(w);
    assert.equal(w.starts.get('k'), 1);
    assert.equal(w.live.has('k'), false);
    assert.equal(s.child('k'), undefined);
  });

  it('takes an exit reported late by an incarnation it already replaced for no failure of the new one', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { exitLagMs: 10 })]);
    await s.start();
    await s.restartChild('a');
    const second = liveChild(w, 'a');
    await w.clock.advance(10); // the first incarnation's exit arrives now
    assert.equal(w.starts.get('a'), 2);
    assert.equal(liveChild(w, 'a'), second);
    assert.equal(s.child('a')?.state, 'running');
  });

  it('does not restart anything once it began to stop, even when a backoff timer already fired', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), { backoff: { initialMs: 100, jitter: 0 } });
    await s.start();
    liveChild(w, 'a').crash();
    await settle(w);
    liveChild(w, 'a').crash();
    await settle(w);
    const busy = busyFor(w, s, 200);
    await w.clock.advance(100); // the timer fires; the restart waits for the busy start
    const stopped = s.stop('infinity');
    await w.clock.advance(100);
    await busy;
    await stopped;
    assert.equal(w.starts.get('a'), 2);
  });

  it('restarts at once on the first failure: no timer is involved', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']));
    await s.start();
    liveChild(w, 'a').crash();
    await flushMicrotasks();
    assert.equal(w.starts.get('a'), 2);
    assert.equal(w.clock.pending, 0);
  });

  it('backs off a child that fails soon after each restart, however long it ran before', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), { backoff: { initialMs: 100, resetAfterMs: 1_000, jitter: 0 } });
    await s.start();
    await w.clock.advance(60_000);
    liveChild(w, 'a').crash();
    await settle(w);
    assert.equal(w.starts.get('a'), 2, 'after a long run: at once');
    liveChild(w, 'a').crash();
    await w.clock.advance(99);
    assert.equal(w.starts.get('a'), 2, 'right after a restart: it waits');
    await w.clock.advance(1);
    assert.equal(w.starts.get('a'), 3);
  });

  it('reports the child that failed with its backoff delay and the siblings restarted with it as immediate', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b']), {
      strategy: 'one_for_all',
      backoff: { initialMs: 100, jitter: 0 },
    });
    await s.start();
    liveChild(w, 'b').crash();
    await settle(w);
    liveChild(w, 'b').crash();
    await w.clock.advance(100);
    assert.deepEqual(
      w.events.flatMap((e) => (e.type === 'restarted' ? [[e.path, e.delayMs, e.manual, e.restarts]] : [])),
      [
        ['/sup/a', 0, false, 1],
        ['/sup/b', 0, false, 1],
        ['/sup/a', 0, false, 2],
        ['/sup/b', 100, false, 2],
      ],
    );
  });

  it('tries again a transient child whose restart could not start', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { restart: 'transient', failStart: (n) => n === 2 })], {
      backoff: { initialMs: 100, jitter: 0 },
    });
    await s.start();
    liveChild(w, 'a').crash();
    await w.clock.advance(100);
    assert.equal(w.starts.get('a'), 3);
    assert.equal(s.child('a')?.state, 'running');
  });

  it('reports a child that ended normally as stopped, and one that crashed as failed with its error', async () => {
    const w = world();
    const s = supervisor(w, [
      fakeSpec(w, 'n', { restart: 'temporary' }),
      fakeSpec(w, 'f', { restart: 'temporary' }),
    ]);
    await s.start();
    liveChild(w, 'n').exitNormally();
    liveChild(w, 'f').crash('boom');
    await settle(w);
    const exits = w.events.flatMap((e) =>
      e.type === 'stopped' || e.type === 'failed'
        ? [[e.path, e.type, e.type === 'stopped' ? e.reason : e.error.message]]
        : [],
    );
    assert.deepEqual(exits, [
      ['/sup/n', 'stopped', 'normal'],
      ['/sup/f', 'failed', 'boom'],
    ]);
    assert.deepEqual(stateChanges(w, '/sup/n').at(-1), 'running->stopped');
    assert.deepEqual(stateChanges(w, '/sup/f').at(-1), 'running->failed');
  });

  it('revives a child on message only after a normal exit, and only if it revives on message', async () => {
    const w = world();
    const s = supervisor(w, [
      fakeSpec(w, 'crashed', { restart: 'temporary', reviveOnMessage: true }),
      fakeSpec(w, 'plain', { restart: 'transient' }),
    ]);
    await s.start();
    const busy = busyFor(w, s, 100);
    liveChild(w, 'crashed').crash();
    liveChild(w, 'plain').exitNormally();
    await settle(w);
    const msgs = ['crashed', 'plain'].map((id) =>
      outcome(askPath(w.env.directory, `/sup/${id}`, 'x', null, 5_000)),
    );
    await w.clock.advance(100);
    await busy;
    assert.deepEqual(await Promise.all(msgs), [
      'MW_ERR_ACTOR_UNAVAILABLE: /sup/crashed is failed',
      'MW_ERR_ACTOR_UNAVAILABLE: /sup/plain is stopped',
    ]);
    assert.deepEqual([w.starts.get('crashed'), w.starts.get('plain')], [1, 1]);
  });

  it('reports a revival as a start, and handles a revival that cannot start as a failure of the child', async () => {
    const w = world();
    const s = supervisor(w, [
      fakeSpec(w, 'idle', { restart: 'transient', reviveOnMessage: true, failStart: (n) => n === 2 }),
    ]);
    await s.start();
    liveChild(w, 'idle').exitNormally();
    const reply = askPath(w.env.directory, '/sup/idle', 'hello', null, 5_000) as Promise<{
      generation: number;
    }>;
    await settle(w);
    assert.equal((await reply).generation, 3, 'the failed revival was followed by a restart');
    assert.deepEqual(stateChanges(w, '/sup/idle'), [
      'starting->running',
      'running->stopping',
      'stopping->starting',
      'starting->restarting',
      'restarting->running',
    ]);
  });

  it('shows a child that winds down by itself as stopping, but not when an old incarnation does', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']));
    await s.start();
    const first = liveChild(w, 'a');
    first.windDown();
    assert.equal(s.child('a')?.state, 'stopping');
    first.exitNormally();
    await settle(w);
    assert.equal(s.child('a')?.state, 'running');
    first.windDown();
    assert.equal(s.child('a')?.state, 'running', 'the new incarnation is not winding down');
  });
});

describe('a supervisor, operator actions and bounds', () => {
  it('refuses a second child with an id already in use', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']));
    await s.start();
    assert.equal(
      await outcome(s.startChild(fakeSpec(w, 'a'))),
      'MW_ERR_SUPERVISOR_REFUSED: /sup/a already exists',
    );
    assert.equal(w.starts.get('a'), 1);
  });

  it('refuses a child beyond maxChildren, counts the refusals, and takes one again once a child is gone', async () => {
    const w = world();
    const s = supervisor(w, [], { strategy: 'simple_one_for_one', maxChildren: 2 });
    await s.start();
    await s.startChild(fakeSpec(w, 'x', { restart: 'temporary' }));
    await s.startChild(fakeSpec(w, 'y'));
    assert.deepEqual(s.capacity(), { children: 2, max: 2, refused: 0 });
    assert.equal(
      await outcome(s.startChild(fakeSpec(w, 'z'))),
      'MW_ERR_SUPERVISOR_FULL: /sup has 2 children, its limit; /sup/z was not started',
    );
    assert.equal(w.starts.get('z'), undefined);
    assert.deepEqual(s.capacity(), { children: 2, max: 2, refused: 1 });
    liveChild(w, 'x').exitNormally();
    await settle(w);
    await s.startChild(fakeSpec(w, 'z'));
    assert.deepEqual(s.capacity(), { children: 2, max: 2, refused: 1 });
  });

  it('keeps no trace of a child that fails to start on request, tells the caller why, and tries again when asked again', async () => {
    const w = world();
    const s = supervisor(w, [], { strategy: 'simple_one_for_one' });
    await s.start();
    const spec = fakeSpec(w, 'x', { failStart: (n) => n === 1 });
    const err = await s.ensureChild(spec).then(
      () => undefined,
      (e: Error & { code?: string; cause?: Error }) => e,
    );
    assert.equal(err?.code, 'MW_ERR_ACTOR_START_FAILED');
    assert.equal(err?.message, '/sup/x failed to start: x cannot start (attempt 1)');
    assert.equal(err?.cause?.message, 'x cannot start (attempt 1)');
    assert.equal(s.child('x'), undefined);
    assert.deepEqual(s.children(), []);
    assert.equal(w.env.directory.get('/sup/x'), undefined);
    const r = await s.ensureChild(spec);
    assert.equal(r.state, 'running');
    assert.equal(w.starts.get('x'), 2);
  });

  it('gives the child already there to ensureChild, without starting it again', async () => {
    const w = world();
    const s = supervisor(w, [], { strategy: 'simple_one_for_one' });
    await s.start();
    const first = await s.startChild(fakeSpec(w, 'k'));
    assert.equal(await s.ensureChild(fakeSpec(w, 'k')), first);
    assert.equal(w.starts.get('k'), 1);
  });

  it('starts a dynamic child anew through ensureChild once the previous one is forgotten', async () => {
    const w = world();
    const s = supervisor(w, [], { strategy: 'simple_one_for_one' });
    await s.start();
    const first = await s.ensureChild(fakeSpec(w, 'k', { restart: 'transient' }));
    liveChild(w, 'k').exitNormally();
    await settle(w);
    const second = await s.ensureChild(fakeSpec(w, 'k', { restart: 'transient' }));
    assert.notEqual(second, first);
    assert.equal(second.state, 'running');
    assert.equal(w.starts.get('k'), 2);
  });

  it('on terminateChild forgets a dynamic child and a temporary one, and keeps a permanent static one stopped', async () => {
    const w = world();
    const fixed = supervisor(w, [
      fakeSpec(w, 'p'),
      fakeSpec(w, 't', { restart: 'temporary' }),
      fakeSpec(w, 'q'),
    ]);
    await fixed.start();
    await fixed.terminateChild('t');
    await fixed.terminateChild('p');
    assert.deepEqual(
      fixed.children().map((r) => [r.id, r.state]),
      [
        ['p', 'stopped'],
        ['q', 'running'],
      ],
    );
    assert.equal(w.env.directory.get('/sup/t'), undefined);

    const dynamic = supervisor(w, [], { strategy: 'simple_one_for_one' }, '/dyn');
    await dynamic.start();
    await dynamic.startChild(fakeSpec(w, 'd1'));
    await dynamic.startChild(fakeSpec(w, 'd2'));
    await dynamic.terminateChild('d1');
    assert.deepEqual(
      dynamic.children().map((r) => r.id),
      ['d2'],
    );
    assert.equal(w.env.directory.get('/dyn/d1'), undefined);
  });

  it('reports a stop on request as a shutdown, showing the child stopping until it is gone', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { stopMs: 100 })]);
    await s.start();
    const terminated = s.terminateChild('a');
    await settle(w);
    assert.equal(s.child('a')?.state, 'stopping');
    await w.clock.advance(100);
    await terminated;
    assert.deepEqual(
      w.events.flatMap((e) => (e.type === 'stopped' ? [[e.path, e.reason]] : [])),
      [['/sup/a', 'shutdown']],
    );
    assert.deepEqual(stateChanges(w, '/sup/a'), [
      'starting->running',
      'running->stopping',
      'stopping->stopped',
    ]);
  });

  it('refuses to start a child that is running, and any action on a child it does not have', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']));
    await s.start();
    assert.equal(await outcome(s.startStopped('a')), 'MW_ERR_SUPERVISOR_REFUSED: /sup/a is already running');
    assert.equal(w.starts.get('a'), 1);
    for (const action of [
      () => s.terminateChild('nope'),
      () => s.startStopped('nope'),
      () => s.restartChild('nope'),
    ])
      assert.equal(await outcome(action()), 'MW_ERR_SUPERVISOR_REFUSED: /sup/nope is not a child of /sup');
  });

  it('leaves a child whose start on request fails failed, with its error, and tells the caller', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a', { failStart: (n) => n === 2 })]);
    await s.start();
    await s.terminateChild('a');
    const err = await s.startStopped('a').then(
      () => undefined,
      (e: Error & { code?: string; cause?: Error }) => e,
    );
    assert.equal(err?.code, 'MW_ERR_ACTOR_START_FAILED');
    assert.equal(err?.message, '/sup/a failed to start: a cannot start (attempt 2)');
    assert.equal(err?.cause?.message, 'a cannot start (attempt 2)');
    assert.equal(s.child('a')?.state, 'failed');
    assert.equal(s.child('a')?.lastError?.message, 'a cannot start (attempt 2)');
    assert.deepEqual(stateChanges(w, '/sup/a').slice(-2), ['stopped->starting', 'starting->failed']);
    await s.startStopped('a');
    assert.equal(s.child('a')?.state, 'running');
  });

  it('shows an operator’s restart as stopping, stopped, restarting and running again', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']));
    await s.start();
    await s.restartChild('a');
    assert.deepEqual(stateChanges(w, '/sup/a'), [
      'starting->running',
      'running->stopping',
      'stopping->stopped',
      'stopped->restarting',
      'restarting->running',
    ]);
    assert.deepEqual(
      w.events.flatMap((e) => (e.type === 'restarted' ? [[e.path, e.restarts, e.delayMs, e.manual]] : [])),
      [['/sup/a', 1, 0, true]],
    );
  });

  it('keeps a child stopped on request while it waited for its backoff: the restart is called off', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a', 'b']), { backoff: { initialMs: 100, jitter: 0 } });
    await s.start();
    liveChild(w, 'a').crash();
    await settle(w);
    liveChild(w, 'a').crash();
    await settle(w);
    assert.equal(s.child('a')?.state, 'restarting');
    await s.terminateChild('a');
    await w.clock.advance(1_000);
    assert.equal(w.starts.get('a'), 2);
    assert.equal(s.child('a')?.state, 'stopped');
    assert.ok(s.running, 'still running');
  });

  it('takes no messages itself: its mailbox is always empty', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']));
    await s.start();
    assert.equal(s.mailbox(), 0);
  });
});

describe('a supervisor, start-up failure, escalation and auto shutdown', () => {
  it('reports the child that failed to start as failed, with the start error as the cause', async () => {
    const w = world();
    const s = supervisor(w, [fakeSpec(w, 'a'), fakeSpec(w, 'b', { failStart: true })]);
    const err = await s.start().then(
      () => undefined,
      (e: Error & { cause?: Error }) => e,
    );
    assert.equal(err?.cause?.message, 'b cannot start (attempt 1)');
    assert.deepEqual(stateChanges(w, '/sup/b'), ['starting->failed']);
    assert.deepEqual(stateChanges(w, '/sup/a'), [
      'starting->running',
      'running->stopping',
      'stopping->stopped',
    ]);
    assert.equal(await refusal(w, s), 'MW_ERR_SUPERVISOR_REFUSED: /sup is failed');
  });

  it('escalates with the last failure as the cause, and leaves the child that exceeded it failed', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), { intensity: 1 });
    await s.start();
    liveChild(w, 'a').crash('first');
    await settle(w);
    liveChild(w, 'a').crash('second');
    const exit = await s.exited;
    assert.equal(exit.kind === 'failed' ? exit.error.cause?.message : exit.kind, 'second');
    assert.equal(stateChanges(w, '/sup/a').at(-1), 'stopped->failed');
    assert.equal(await refusal(w, s), 'MW_ERR_SUPERVISOR_REFUSED: /sup is failed');
  });

  it('escalates when a permanent child keeps ending normally, naming it without a failure message', async () => {
    const w = world();
    const s = supervisor(w, specs(w, ['a']), { intensity: 1 });
    await s.start();
    liveChild(w, 'a').exitNormally();
    await settle(w);
    liveChild(w, 'a').exitNormally();
    const exit = await s.exited;
    assert.match(exit.kind === 'failed' ? exit.error.message : '', /last failure: \/sup\/a$/);
    assert.equal(exit.kind === 'failed' ? exit.error.cause : 'not failed', undefined);
  });

  it('with all_significant, shuts down once every significant child has ended, not before', async () => {
    const w = world();
    const s = supervisor(
      w,
      [
        fakeSpec(w, 's1', { restart: 'transient', significant: true }),
        fakeSpec(w, 's2', { restart: 'transient', significant: true }),
        fakeSpec(w, 'helper'),
      ],
      { autoShutdown: 'all_significant' },
    );
    await s.start();
    liveChild(w, 's1').exitNormally();
    await settle(w);
    assert.ok(s.running, 'one significant child is still there');
    liveChild(w, 's2').exitNormally();
    assert.deepEqual(await s.exited, { kind: 'shutdown' });
    assert.equal(w.live.size, 0);
    assert.equal(await refusal(w, s), 'MW_ERR_SUPERVISOR_REFUSED: /sup is stopped');
  });

  it('never shuts down for a child that is not significant, nor with auto_shutdown never', async () => {
    const w = world();
    const any = supervisor(
      w,
      [fakeSpec(w, 'x', { restart: 'temporary' }), fakeSpec(w, 'sig', { significant: true })],
      {
        autoShutdown: 'any_significant',
      },
    );
    await any.start();
    liveChild(w, 'x').exitNormally();
    await settle(w);
    assert.ok(any.running, 'still running');

    const never = supervisor(
      w,
      [fakeSpec(w, 'm', { restart: 'transient', significant: true })],
      {},
      '/never',
    );
    await never.start();
    liveChild(w, 'm').exitNormally();
    await settle(w);
    assert.ok(never.running, 'still running');
  });
});
