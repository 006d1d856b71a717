import { LockRequest } from '../src/api/schemas.ts';
import { startFakeBotApi } from '../test/harness/index.ts';
import { until } from '../test/harness/poll.ts';
import { startApiNode, startTestActor, TOKENS } from '../test/support/api-node.ts';
import { fmt, percentile, report } from './stats.ts';

/**
 * The system state and the Telegram bot on one in-process node (the embedded default), against the local fake of
 * the Bot API (test/harness/telegram-bot-api.ts):
 *  - `GET /api/monitor/v1/system/state` latency, 200 requests one after another, with the node's tree as it starts
 *    (the baseline) and with 10,000 live mutex actors (the collector walks every actor of the node);
 *  - a broadcast: 200 subscribed chats, one new deviation (an actor that crashed), timed from `poll-now` until the
 *    fake has accepted all 200 messages.
 */

const REQUESTS = 200;
const ACTORS = 10_000;
const CHATS = 200;

const api = await startFakeBotApi();
process.env.BENCH_TELEGRAM_TOKEN = api.token;
process.env.BENCH_TELEGRAM_PASSWORD = 'bench-password-123';
const n = await startApiNode({
  mutexIdleMs: 600_000,
  role: {
    mutex: { max_keys: ACTORS + 100, idle_ms: 600_000 },
    telegram: {
      api_base_url: api.url,
      token: '${env:BENCH_TELEGRAM_TOKEN}',
      admins: [{ login: 'ops', password: '${env:BENCH_TELEGRAM_PASSWORD}' }],
      long_poll_s: 1,
    },
  },
});

async function latencies(): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const res = await n.call('/api/monitor/v1/system/state', { token: TOKENS.reader });
    await res.json();
    out.push(performance.now() - t0);
  }
  return out;
}

try {
  const base = await latencies();
  report(
    `system state, ${n.node.directory.size} actors: p50 / p99`,
    `${fmt(percentile(base, 50), 2)} / ${fmt(percentile(base, 99), 2)} ms`,
  );
  const req = LockRequest.parse({ owner: 'bench', hold_ms: 600_000 });
  for (let i = 0; i < ACTORS; i += 500)
    await Promise.all(
      Array.from({ length: 500 }, (_, j) => n.node.api.mutex.lock(`bench-key-${i + j}`, req)),
    );
  const many = await latencies();
  report(
    `system state, ${n.node.directory.size} actors: p50 / p99`,
    `${fmt(percentile(many, 50), 2)} / ${fmt(percentile(many, 99), 2)} ms`,
  );

  for (let c = 1; c <= CHATS; c++) api.userSays(c, `/start ops:${process.env.BENCH_TELEGRAM_PASSWORD}`);
  await until(
    'every chat subscribed',
    async () => api.sent.filter((s) => s.text.startsWith('Subscribed')).length === CHATS,
    { ms: 60_000 },
  );
  const path = await startTestActor(n, 'crashy');
  await n.call(`/api/v1/actors${path}/messages?reply=true`, {
    method: 'POST',
    body: JSON.stringify({ type: 'throw', payload: 'bench' }),
  });
  const before = api.sent.length;
  const t0 = performance.now();
  const res = await n.call('/api/v1/actors/services/telegram/messages?reply=true', {
    method: 'POST',
    body: JSON.stringify({ type: 'poll-now', payload: null }),
  });
  const { result } = (await res.json()) as { result: { notified: number } };
  await until('every chat got the broadcast', async () => api.sent.length - before >= CHATS, { ms: 60_000 });
  report(
    `broadcast of one new deviation to ${result.notified} chats`,
    `${fmt(performance.now() - t0, 0)} ms`,
  );
} finally {
  await n.stop();
  await api.stop();
}
