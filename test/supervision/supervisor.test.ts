import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { askPath } from '../../src/actor-system/actor-ref.ts';
import type { SupervisorFlags } from '../../src/supervision/spec.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
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
      assert.ok(s.running);
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
    assert.ok(s.running);
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
    assert.ok(s.running);
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
