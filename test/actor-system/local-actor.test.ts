import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actorChild } from '../../src/actor-system/actor-child.ts';
import { ActorRef } from '../../src/actor-system/actor-ref.ts';
import { InvalidMessage } from '../../src/actor-system/errors.ts';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { LocalActor } from '../../src/actor-system/local-actor.ts';
import type { ExitReason, Incarnation, IncarnationObserver } from '../../src/supervision/incarnation.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
import type { ActorWorld } from '../support/actor-world.ts';
import { actorWorld, sharedComedy } from '../support/actor-world.ts';

/** The in-memory actor mware hosts itself: its cell and incarnation in one object, under a real supervisor. */

type ProbeProtocol = {
  get: { request: null; reply: number };
  add: { request: number; reply: number };
  save: { request: null; reply: string };
  crash: { request: string; reply: never };
  'bad-input': { request: null; reply: never };
  slow: { request: number; reply: string };
  'stop-self': { request: null; reply: string };
  'fail-self': { request: string; reply: string };
};

interface ProbeArgs {
  /** Declare itself failed while initialising, on the creations this says. */
  failInit?: (creation: number) => boolean;
  /** Initialisation takes this long (ms). */
  initMs?: number;
  /** Called when its behaviour stops. */
  onStop?: () => void;
}

/** Behaviours made so far (a new incarnation is a new one). */
let creations = 0;
/** Messages handled so far, by any probe. */
let handled = 0;

/** A kind written as a class: one handler table for all its actors, which inherits from Object.prototype. */
class ProbeActor implements Behavior<ProbeProtocol> {
  private count: number;

  constructor(
    private readonly args: ProbeArgs,
    private readonly ctx: ActorContext<{ count: number }>,
  ) {
    this.count = ctx.state.restored?.count ?? 0;
  }

  get handlers(): Handlers<ProbeProtocol> {
    return ProbeActor.handlers;
  }

  static readonly handlers: HandlersOf<ProbeProtocol, ProbeActor> = {
    get() {
      handled++;
      return this.count;
    },
    add(n) {
      handled++;
      return (this.count += n);
    },
    async save() {
      await this.ctx.state.save({ count: this.count });
      return 'saved';
    },
    crash(message) {
      throw new Error(message);
    },
    'bad-input'() {
      throw new InvalidMessage('that is the caller’s mistake');
    },
    slow(ms) {
      return new Promise((resolve) => setTimeout(() => resolve('done'), ms));
    },
    'stop-self'() {
      this.ctx.stop();
      return 'stopping';
    },
    'fail-self'(message) {
      this.ctx.fail(new Error(message));
      return 'declared';
    },
  };

  stop(): void {
    this.args.onStop?.();
  }
}

const probe = defineActor<ProbeProtocol, ProbeArgs, { count: number }>({
  kind: 'test-probe',
  moduleUrl: import.meta.url,
  exportName: 'probe',
  stateKey: () => 'probe',
  messages: {},
  create(args, ctx) {
    const n = ++creations;
    if (args.failInit?.(n)) ctx.fail(new Error(`failed while initialising (creation ${n})`));
    if (!args.initMs) return new ProbeActor(args, ctx);
    return new Promise((resolve) => setTimeout(() => resolve(new ProbeActor(args, ctx)), args.initMs));
  },
});

const comedy = sharedComedy();

const code = (e: unknown) => (e as { code?: string }).code;

async function tree(w: ActorWorld, args: ProbeArgs = {}, reviveOnMessage = false) {
  const s = new Supervisor(
    '/t',
    compileFlags({ intensity: 10, periodMs: 10_000, backoff: { initialMs: 100, jitter: 0 } }),
    [
      actorChild(w.runtime, {
        id: 'p',
        kind: probe,
        args,
        mode: 'in-memory',
        restart: reviveOnMessage ? 'transient' : 'permanent',
        reviveOnMessage,
      }),
    ],
    w.env,
  );
  await s.start();
  return { s, ref: new ActorRef<ProbeProtocol>('/t/p', w.env.directory) };
}

/** Starts a probe alone, watched by an observer that records its exit. */
async function alone(w: ActorWorld, args: ProbeArgs = {}) {
  const actor = await LocalActor.start({ actor: probe, args, runtime: w.runtime }, '/p', w.env);
  const exits: ExitReason[] = [];
  const observer: IncarnationObserver = {
    exited: (_inc: Incarnation, reason: ExitReason) => void exits.push(reason),
    windingDown: () => undefined,
  };
  actor.watch(observer);
  return { actor, exits };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('an in-memory actor', () => {
  it('handles a message after its sender’s call has returned, never inside it', async () => {
    const w = actorWorld(comedy());
    const { actor } = await alone(w);
    const before = handled;
    const reply = actor.deliver('add', 1, 1_000);
    assert.equal(handled, before, 'not handled inside deliver()');
    assert.equal(await reply, 1);
    assert.equal(handled, before + 1);
    actor.kill();
  });

  it('takes only its own handlers as messages: inherited names are unknown messages, and it keeps running', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w);
    try {
      for (const type of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'handlers'])
        await assert.rejects(ref.ask(type as 'get', null), (e) => code(e) === 'MW_ERR_UNKNOWN_MESSAGE');
      await assert.rejects(ref.ask('bad-input', null), (e) => code(e) === 'MW_ERR_INVALID_MESSAGE');
      assert.equal(await ref.ask('add', 2), 2, 'the same incarnation, its state intact');
      assert.equal(s.child('p')?.restarts, 0);
    } finally {
      await s.stop('infinity');
    }
  });

  it('keeps its own state though its kind’s handlers are one table for all its actors', async () => {
    const w = actorWorld(comedy());
    const a = await alone(w);
    const b = await alone(w);
    assert.equal(await a.actor.deliver('add', 5, 1_000), 5);
    assert.equal(await b.actor.deliver('add', 1, 1_000), 1);
    assert.equal(await a.actor.deliver('get', null, 1_000), 5);
    a.actor.kill();
    b.actor.kill();
  });

  it('is restarted by its supervisor when a handler throws: the caller learns it crashed, the new incarnation gets the saved state', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w);
    try {
      await ref.ask('add', 5);
      await ref.ask('save', null);
      await ref.ask('add', 1);
      const first = s.child('p')?.incarnation;
      await assert.rejects(
        ref.ask('crash', 'kaboom'),
        (e: Error) => code(e) === 'MW_ERR_ACTOR_CRASHED' && /kaboom/.test(e.message),
      );
      await w.next((e) => e.type === 'restarted');
      assert.equal(await ref.ask('get', null), 5, 'restored from its saved state, not the unsaved 6');
      assert.notEqual(s.child('p')?.incarnation, first);
      assert.equal(s.child('p')?.restarts, 1);
      assert.equal(s.child('p')?.lastError?.message, 'kaboom');
    } finally {
      await s.stop('infinity');
    }
  });

  it('has the messages sent while it restarts held, then delivered in order to the new incarnation', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w);
    try {
      // The first restart is immediate; the second consecutive one waits out the backoff (100 ms).
      await assert.rejects(ref.ask('crash', 'one'));
      await w.next((e) => e.type === 'restarted');
      await assert.rejects(ref.ask('crash', 'two'));
      await tick();
      assert.equal(s.child('p')?.state, 'restarting');
      const replies = [ref.ask('add', 1), ref.ask('add', 10), ref.ask('add', 100)];
      assert.equal(s.child('p')?.held, 3);
      assert.equal(s.child('p')?.snapshot().mailbox, 3, 'held messages count in its mailbox');
      assert.deepEqual(await Promise.all(replies), [1, 11, 111]);
      assert.equal(s.child('p')?.held, 0);
    } finally {
      await s.stop('infinity');
    }
  });

  it('answers what it is handling before a graceful stop completes, and refuses messages after it', async () => {
    const w = actorWorld(comedy());
    let stopped = 0;
    const { actor, exits } = await alone(w, { onStop: () => stopped++ });
    const slow = actor.deliver('slow', 100, 5_000);
    await tick();
    assert.equal(actor.mailbox(), 1);
    await actor.stop(5_000);
    assert.equal(await slow, 'done');
    assert.equal(stopped, 1);
    await tick();
    assert.deepEqual(exits, [{ kind: 'shutdown' }]);
    assert.equal(actor.ending, true);
    await assert.rejects(actor.deliver('get', null, 1_000), (e) => code(e) === 'MW_ERR_ACTOR_UNAVAILABLE');
  });

  it('fails what it is handling when killed, or when its graceful stop outlasts its shutdown time', async () => {
    const w = actorWorld(comedy());
    let stopped = 0;
    const killed = await alone(w, { onStop: () => stopped++ });
    const cut = killed.actor.deliver('slow', 5_000, 10_000);
    await tick();
    killed.actor.kill();
    await assert.rejects(cut, (e) => code(e) === 'MW_ERR_ACTOR_UNAVAILABLE');
    await tick();
    assert.equal(stopped, 1, 'its behaviour was stopped, so its timers end with it');
    assert.deepEqual(killed.exits, [{ kind: 'shutdown' }]);

    const late = await alone(w);
    const slow = late.actor.deliver('slow', 5_000, 10_000);
    await tick();
    const t0 = performance.now();
    await late.actor.stop(50);
    assert.ok(performance.now() - t0 < 2_000, 'stopped at its shutdown time');
    await assert.rejects(slow, (e) => code(e) === 'MW_ERR_ACTOR_UNAVAILABLE');
  });

  it('refuses a save once it has ended: its state may be a new incarnation’s by then', async () => {
    const w = actorWorld(comedy());
    const { actor } = await alone(w);
    assert.equal(await actor.deliver('add', 3, 1_000), 3);
    assert.equal(await actor.deliver('save', null, 1_000), 'saved');
    assert.deepEqual(w.saved.get('probe'), { count: 3 });
    actor.kill();
    await assert.rejects(actor.save({ count: 99 }), (e) => code(e) === 'MW_ERR_ACTOR_UNAVAILABLE');
    assert.deepEqual(w.saved.get('probe'), { count: 3 });
  });

  it('stops normally when it asks to, and a message brings it back', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w, {}, true);
    try {
      await ref.ask('add', 4);
      await ref.ask('save', null);
      assert.equal(await ref.ask('stop-self', null), 'stopping');
      await w.next((e) => e.type === 'state-changed' && e.to === 'stopping');
      await w.next((e) => e.type === 'stopped' && e.reason === 'normal');
      assert.equal(await ref.ask('get', null), 4, 'revived with its saved state');
      assert.equal(s.child('p')?.restarts, 0, 'a revival is not a restart');
    } finally {
      await s.stop('infinity');
    }
  });

  it('is restarted when it declares itself failed, and fails the request that saw it', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w);
    try {
      await assert.rejects(
        ref.ask('fail-self', 'connection lost'),
        (e) => code(e) === 'MW_ERR_ACTOR_CRASHED',
      );
      await w.next((e) => e.type === 'restarted');
      assert.equal(s.child('p')?.lastError?.message, 'connection lost');
      assert.equal(await ref.ask('add', 1), 1);
    } finally {
      await s.stop('infinity');
    }
  });

  it('reports a failure declared while it initialised, even to an observer that comes after', async () => {
    const w = actorWorld(comedy());
    let stopped = 0;
    const { actor, exits } = await alone(w, { failInit: () => true, onStop: () => stopped++ });
    assert.equal(actor.ending, true);
    await tick();
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.kind === 'failed' && /while initialising/.test(exits[0].error.message), true);
    assert.equal(stopped, 1, 'the behaviour built after the failure is stopped');
  });

  it('is restarted by its supervisor at once when it failed while it initialised', async () => {
    const w = actorWorld(comedy());
    const first = creations + 1;
    const { s, ref } = await tree(w, { failInit: (n) => n === first });
    try {
      await w.next((e) => e.type === 'restarted');
      assert.match(s.child('p')?.lastError?.message ?? '', /while initialising/);
      assert.equal(await ref.ask('add', 2), 2);
    } finally {
      await s.stop('infinity');
    }
  });

  it('fails to start when its initialisation outlasts the start timeout, and its late behaviour is stopped', async () => {
    const w = actorWorld(comedy());
    w.runtime.startTimeoutMs = 50;
    let stopped = 0;
    await assert.rejects(
      LocalActor.start(
        { actor: probe, args: { initMs: 150, onStop: () => stopped++ }, runtime: w.runtime },
        '/p',
        w.env,
      ),
      (e: Error) => code(e) === 'MW_ERR_ACTOR_START_FAILED' && /within 50 ms/.test(e.message),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(stopped, 1);
  });
});
