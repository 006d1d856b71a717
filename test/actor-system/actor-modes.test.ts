import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { actorChild } from '../../src/actor-system/actor-child.ts';
import { ActorRef } from '../../src/actor-system/actor-ref.ts';
import type { ActorMode } from '../../src/supervision/events.ts';
import { compileFlags } from '../../src/supervision/spec.ts';
import { Supervisor } from '../../src/supervision/supervisor.ts';
import type { CounterArgs, CounterProtocol } from '../support/counter-actor.ts';
import { counterActor } from '../support/counter-actor.ts';
import { createLogger } from '../../src/log/log.ts';
import type { ActorWorld } from '../support/actor-world.ts';
import { actorWorld, sharedComedy } from '../support/actor-world.ts';

/** Supervision of real comedy actors in every mode: what comedy alone does not do, ours must. */

const comedy = sharedComedy();

const code = (e: unknown) => (e as { code?: string }).code;

/** Waits until `cond` holds (polling), failing after `ms`. */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function tree(
  w: ActorWorld,
  mode: ActorMode,
  args: CounterArgs = {},
  flags: Parameters<typeof compileFlags>[0] = {},
  shutdown = 5_000,
) {
  const s = new Supervisor(
    '/t',
    compileFlags({ intensity: 10, periodMs: 10_000, backoff: { initialMs: 50 }, ...flags }),
    [actorChild(w.runtime, { id: 'c', kind: counterActor, args, mode, shutdown })],
    w.env,
  );
  await s.start();
  return { s, ref: new ActorRef<CounterProtocol>('/t/c', w.env.directory) };
}

for (const mode of ['in-memory', 'forked', 'threaded'] as const) {
  describe(`a supervised ${mode} actor`, () => {
    it('logs through the node’s logger: node and group fields, its path, secrets scrubbed', async () => {
      const lines: string[] = [];
      const secret = 'pw-0123456789-secret';
      const log = createLogger({
        node: 'mware7',
        group: 4242,
        secrets: [secret],
        destination: { write: (l: string) => void lines.push(l) },
      });
      const w = actorWorld(comedy(), { log });
      const { s, ref } = await tree(w, mode);
      try {
        assert.equal(await ref.ask('log', secret), 'logged');
        await until(() => lines.some((l) => l.includes('counter says')));
        const line = lines.find((l) => l.includes('counter says')) ?? '';
        const record = JSON.parse(line) as Record<string, unknown>;
        assert.deepEqual(
          [record.node, record.group, record.path, record.level],
          ['mware7', 4242, '/t/c', 30],
        );
        assert.ok(!line.includes(secret), line);
        assert.equal(record.password, '[REDACTED]');
      } finally {
        await s.stop('infinity');
      }
    });

    it('runs where its mode says', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode);
      try {
        const where = await ref.ask('where', null);
        assert.equal(where.pid === process.pid, mode !== 'forked');
        assert.equal(where.mainThread, mode !== 'threaded');
      } finally {
        await s.stop('infinity');
      }
    });

    it('answers a caller’s mistake with its error and keeps running', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode, { start: 5 });
      try {
        await assert.rejects(ref.ask('bad-input', null), (e) => code(e) === 'MW_ERR_INVALID_MESSAGE');
        await assert.rejects(ref.ask('no-such' as 'get', null), (e) => code(e) === 'MW_ERR_UNKNOWN_MESSAGE');
        assert.equal(await ref.ask('inc', 1), 6, 'same incarnation, state intact');
        assert.equal(s.child('c')?.restarts, 0);
      } finally {
        await s.stop('infinity');
      }
    });

    it('is restarted when an exception escapes its handler, and the caller learns it crashed', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode, { start: 5 });
      try {
        await ref.ask('inc', 1);
        await assert.rejects(
          ref.ask('throw', 'kaboom'),
          (e: Error) => code(e) === 'MW_ERR_ACTOR_CRASHED' && /kaboom/.test(e.message),
        );
        assert.equal(await ref.ask('get', null), 5, 'a new incarnation, started from its arguments');
        assert.equal(s.child('c')?.restarts, 1);
        assert.equal(s.child('c')?.lastError?.message, 'kaboom');
      } finally {
        await s.stop('infinity');
      }
    });

    it('is restarted when it declares itself failed', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode);
      try {
        // The request that saw the failure is in flight when the actor fails: it fails with it.
        await assert.rejects(
          ref.ask('fail-self', 'connection lost'),
          (e) => code(e) === 'MW_ERR_ACTOR_CRASHED',
        );
        await w.next((e) => e.type === 'restarted');
        assert.equal(s.child('c')?.lastError?.message, 'connection lost');
      } finally {
        await s.stop('infinity');
      }
    });

    it('gets its saved state back after a crash', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode);
      try {
        await ref.ask('save', 42);
        await assert.rejects(ref.ask('throw', 'x'));
        assert.equal(await ref.ask('get', null), 42);
      } finally {
        await s.stop('infinity');
      }
    });

    it('answers the requests it is handling before a graceful stop completes', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode);
      const slow = ref.ask('sleep', 300).then(
        (v) => v,
        (e) => code(e),
      );
      await until(() => s.child('c')?.snapshot().mailbox === 1);
      await s.stop('infinity');
      assert.equal(await slow, 'slept');
    });

    it('fails the requests it is still handling when it is killed at its shutdown timeout', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode, { stopHangs: true }, {}, 200);
      const t0 = performance.now();
      const slow = ref.ask('sleep', 5_000).then(
        (v) => ({ v, ms: performance.now() - t0 }),
        (e) => ({ v: code(e), ms: performance.now() - t0 }),
      );
      await until(() => s.child('c')?.snapshot().mailbox === 1);
      await s.stop('infinity');
      const { v, ms } = await slow;
      assert.equal(v, 'MW_ERR_ACTOR_UNAVAILABLE', 'a killed actor answers nothing more');
      assert.ok(ms < 4_000, `failed after ${Math.round(ms)} ms, with the kill, not at the handler's end`);
    });

    it('is killed when it does not stop within its shutdown timeout', async () => {
      const w = actorWorld(comedy());
      const { s, ref } = await tree(w, mode, { stopHangs: true }, {}, 300);
      await ref.ask('get', null);
      const t0 = performance.now();
      await s.stop('infinity');
      const ms = performance.now() - t0;
      assert.ok(ms >= 250 && ms < 5_000, `stopped in ${Math.round(ms)} ms`);
    });
  });
}

describe('supervision of processes and threads comedy does not supervise', () => {
  it('restarts a forked actor whose process is killed with SIGKILL, in a new process', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w, 'forked');
    try {
      await ref.ask('save', 7);
      const { pid } = await ref.ask('where', null);
      process.kill(pid, 'SIGKILL');
      const failed = await w.next((e) => e.type === 'failed');
      assert.match(failed.type === 'failed' ? failed.error.message : '', /process killed by SIGKILL/);
      await w.next((e) => e.type === 'restarted');
      const again = await ref.ask('where', null);
      assert.notEqual(again.pid, pid);
      assert.equal(await ref.ask('get', null), 7, 'its saved state came back');
    } finally {
      await s.stop('infinity');
    }
  });

  it('restarts a threaded actor whose thread died of an uncaught exception', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w, 'threaded');
    try {
      const before = await ref.ask('where', null);
      await ref.ask('crash-async', null);
      await w.next((e) => e.type === 'restarted');
      const afterRestart = await ref.ask('where', null);
      assert.notEqual(afterRestart.threadId, before.threadId);
      assert.match(s.child('c')?.lastError?.message ?? '', /thread exited with code 1/);
    } finally {
      await s.stop('infinity');
    }
  });

  it('fails requests in flight to a thread that dies instead of leaving them hanging', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(w, 'threaded');
    try {
      const slow = ref.ask('sleep', 10_000).then(
        () => 'answered',
        (e) => code(e),
      );
      await ref.ask('crash-async', null);
      assert.equal(await slow, 'MW_ERR_ACTOR_CRASHED');
    } finally {
      await s.stop('infinity');
    }
  });

  it('restarts a forked actor stalled with SIGSTOP once it misses its liveness deadline', async () => {
    const w = actorWorld(comedy(), { liveness: { intervalMs: 200, timeoutMs: 300 } });
    const { s, ref } = await tree(w, 'forked');
    try {
      const { pid } = await ref.ask('where', null);
      process.kill(pid, 'SIGSTOP');
      const failed = await w.next((e) => e.type === 'failed', 10_000);
      assert.equal(failed.type === 'failed' ? failed.error.code : '', 'MW_ERR_LIVENESS_TIMEOUT');
      await w.next((e) => e.type === 'restarted');
      assert.notEqual((await ref.ask('where', null)).pid, pid);
      assert.throws(() => process.kill(pid, 0), 'the stalled process was killed');
    } finally {
      await s.stop('infinity');
    }
  });

  it('escalates, instead of restarting forever, a child that throws on every message', async () => {
    const w = actorWorld(comedy());
    const { s, ref } = await tree(
      w,
      'in-memory',
      {},
      { intensity: 3, periodMs: 5_000, backoff: { initialMs: 20 } },
    );
    const outcomes = new Map<string, number>();
    // A busy sender keeps sending; each message crashes the actor.
    for (let i = 0; i < 200 && s.running; i++) {
      const c = await ref.ask('throw', `message ${i}`, { timeoutMs: 2_000 }).then(
        () => 'ok',
        (e) => code(e) ?? 'other',
      );
      outcomes.set(c, (outcomes.get(c) ?? 0) + 1);
    }
    const exit = await s.exited;
    assert.equal(exit.kind === 'failed' ? exit.error.code : exit.kind, 'MW_ERR_RESTART_INTENSITY');
    assert.equal(s.child('c'), undefined, 'its children are stopped');
    assert.ok(
      w.events.filter((e) => e.type === 'restarted').length <= 3,
      'no more restarts than the intensity allows',
    );
    assert.ok((outcomes.get('MW_ERR_ACTOR_CRASHED') ?? 0) <= 4);
  });

  it('lets the process exit after a threaded actor is stopped (comedy alone keeps its worker alive)', () => {
    const script = new URL('../support/threaded-exit.ts', import.meta.url).pathname;
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { timeout: 30_000, encoding: 'utf8' });
    assert.equal(r.signal, null, `the process had to be killed after 30 s: ${r.stdout}${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stopped threaded actor/);
  });
});
