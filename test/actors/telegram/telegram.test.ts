import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TelegramArgs } from '../../../actors/telegram/telegram-actor.ts';
import { telegramActor } from '../../../actors/telegram/telegram-actor.ts';
import type {
  PollReport,
  TelegramProtocol,
  TelegramState,
  TelegramStatus,
} from '../../../actors/telegram/protocol.ts';
import type { Behavior, Handlers } from '../../../src/actor-system/kind.ts';
import { createLogger } from '../../../src/log/log.ts';
import type { Deviation } from '../../../src/monitor/deviation.ts';
import type { SystemState } from '../../../src/monitor/schemas.ts';
import { ManualClock } from '../../../src/supervision/clock.ts';
import { SEND_PER_S } from '../../../actors/telegram/telegram-actor.ts';
import { Telegram } from '../../../topology/schema.ts';
import type { FakeBotApi } from '../../harness/index.ts';
import { startFakeBotApi } from '../../harness/index.ts';
import { until } from '../../harness/poll.ts';
import { Writable } from 'node:stream';
import { MwareClient } from '../../../src/client/client.ts';
import { runOnce } from '../../../src/shell/shell.ts';
import { SystemStateSchema } from '../../../src/monitor/schemas.ts';
import { startApiNode, startTestActor, TOKENS } from '../../support/api-node.ts';
import { testActorContext } from '../../support/actor-context.ts';

/** Starts: one local fake of the Telegram Bot API (test/harness/telegram-bot-api.ts), shared by the tests. */

const ALICE = { login: 'alice', password: 'correct-horse-battery' };
const BOB = { login: 'bob', password: 'staple-staple-staple' };
const POLL_MS = 300_000;

let api: FakeBotApi;
before(async () => {
  api = await startFakeBotApi();
});
after(() => api?.stop());

interface Bot {
  actor: Behavior<TelegramProtocol>;
  handlers: Handlers<TelegramProtocol>;
  clock: ManualClock;
  /** What the bot's next poll of the system state finds. */
  deviations: Deviation[];
  saved(): TelegramState | undefined;
  logLines: string[];
}

const running: Behavior<TelegramProtocol>[] = [];
after(async () => {
  for (const a of running) await a.stop?.();
});

let chats = 1000;
/** A chat id no other test uses (the fake is shared). */
const newChat = () => ++chats;

async function startBot(
  o: { token?: string; restored?: TelegramState; deviations?: Deviation[]; clock?: ManualClock } = {},
): Promise<Bot> {
  const clock = o.clock ?? new ManualClock(0, Date.UTC(2026, 11, 7, 1, 0, 0));
  const logLines: string[] = [];
  const bot = { deviations: o.deviations ?? [] } as Bot;
  const args: TelegramArgs = {
    config: Telegram.parse({
      api_base_url: api.url,
      token: o.token ?? api.token,
      admins: [ALICE, BOB],
      long_poll_s: 2,
    }),
    systemState: async (): Promise<SystemState> => ({
      cluster: 'demo',
      collected_by: 'mware1',
      collected_at: new Date(clock.wallNow()).toISOString(),
      healthy: bot.deviations.length === 0,
      deviations: bot.deviations,
      nodes: [{ name: 'mware1', site: 'main', group: 1, role: 'active', reachable: true }],
    }),
  };
  const ctx = testActorContext<TelegramState>('/services/telegram', {
    clock,
    restored: o.restored,
    durable: true,
    log: createLogger({ level: 'debug', destination: { write: (l: string) => void logLines.push(l) } }),
  });
  const actor = await telegramActor.create(args, ctx.context);
  running.push(actor);
  return Object.assign(bot, { actor, handlers: actor.handlers, clock, saved: ctx.saved, logLines });
}

async function stopBot(b: Bot): Promise<void> {
  await b.actor.stop?.();
  running.splice(running.indexOf(b.actor), 1);
}

/** Asks the bot as its cell would (handlers run with the behaviour as `this`). */
const status = (b: Bot) => b.handlers.status.call(b.actor, null) as TelegramStatus;
const deviationsOf = (b: Bot) => b.handlers.deviations.call(b.actor, null) as Deviation[];

async function subscribe(_b: Bot | undefined, chat: number, who = ALICE): Promise<void> {
  api.userSays(chat, `/start ${who.login}:${who.password}`);
  await api.waitForSent(chat, (t) => t.startsWith(`Subscribed as ${who.login}`));
}

/** Moves the bot's clock to its next poll and waits until the poll has ended. */
async function poll(b: Bot): Promise<void> {
  const before = status(b).last_poll_at;
  await b.clock.advance(POLL_MS);
  await until('the poll has run', async () => status(b).last_poll_at !== before);
}

const sentTo = (chat: number) => api.sent.filter((s) => s.chat_id === chat);

function deviation(kind: string, message: string, severity: Deviation['severity'] = 'critical'): Deviation {
  return {
    source: '/pg/main',
    kind,
    severity,
    since: '2026-12-07T00:55:00.000Z',
    message,
    node: 'mware1',
    site: 'main',
  };
}

describe('the Telegram bot, against a local fake of the Bot API', () => {
  it('subscribes an administrator with /start <login>:<password>, deletes the message holding the password, and broadcasts a deviation at the 5-minute poll and its clearing at a later one', async () => {
    const b = await startBot();
    const chat = newChat();
    const start = api.userSays(chat, `/start ${ALICE.login}:${ALICE.password}`);
    const ok = await api.waitForSent(chat, (t) => t.startsWith('Subscribed as alice'));
    assert.equal(ok.disable_notification, false);
    assert.ok(
      api.deleted.some((d) => d.chat_id === chat && d.message_id === start),
      'the /start message is deleted',
    );
    assert.deepEqual(
      status(b).subscribers.map((s) => [s.chat_id, s.login, s.paused, s.silent]),
      [[chat, 'alice', false, false]],
    );
    assert.deepEqual(
      b.saved()?.subscribers.map((s) => s.chat_id),
      [chat],
      'the subscription is saved',
    );

    // Nothing before the poll is due, however long the long polls run.
    b.deviations = [deviation('pg-failover', 'PostgreSQL cluster main failed over to pg2')];
    await b.clock.advance(POLL_MS - 1);
    assert.equal(sentTo(chat).length, 1);

    await poll(b);
    const news = await api.waitForSent(chat, (t) => t.includes('NEW'));
    assert.match(
      news.text,
      /^mware demo:\nNEW CRITICAL \[mware1@main\]: PostgreSQL cluster main failed over to pg2 \(since 2026-12-07T00:55:00.000Z\)$/,
    );

    // The same deviation at the next poll is not news.
    await poll(b);
    assert.equal(sentTo(chat).length, 2);

    b.deviations = [];
    await poll(b);
    const cleared = await api.waitForSent(chat, (t) => t.includes('CLEARED'));
    assert.match(
      cleared.text,
      /CLEARED CRITICAL \[mware1@main\]: PostgreSQL cluster main failed over to pg2/,
    );
    assert.equal(sentTo(chat).length, 3);
    await stopBot(b);
  });

  it('/pause stops the broadcasts to that chat until /resume; /silent sends them without a notification', async () => {
    const b = await startBot();
    const [paused, other] = [newChat(), newChat()];
    await subscribe(b, paused);
    await subscribe(b, other, BOB);
    api.userSays(paused, '/pause');
    await api.waitForSent(paused, (t) => t.startsWith('Paused'));
    assert.equal(status(b).subscribers.find((s) => s.chat_id === paused)?.paused, true);

    b.deviations = [deviation('cpu-load', 'CPU load of mware1 is above 1 per core', 'warning')];
    await poll(b);
    await api.waitForSent(other, (t) => t.includes('NEW warning'));
    assert.ok(!sentTo(paused).some((s) => s.text.includes('NEW')), 'a paused chat gets no broadcast');

    api.userSays(paused, '/resume');
    await api.waitForSent(paused, (t) => t === 'Broadcasts resumed.');
    api.userSays(paused, '/silent');
    const silentOn = await api.waitForSent(paused, (t) => t.startsWith('Silent mode on'));
    assert.equal(silentOn.disable_notification, true);

    b.deviations = [
      ...b.deviations,
      deviation('actor-failed', '/backup (backup) has failed and is not restarted'),
    ];
    await poll(b);
    const quiet = await api.waitForSent(paused, (t) => t.includes('NEW'));
    assert.match(quiet.text, /NEW CRITICAL .*\/backup \(backup\) has failed/);
    assert.doesNotMatch(quiet.text, /CPU load/, 'what was announced while paused is not announced again');
    assert.equal(quiet.disable_notification, true);
    const loud = await api.waitForSent(other, (t) => t.includes('/backup'));
    assert.equal(loud.disable_notification, false, 'silent mode is per chat');
    await stopBot(b);
  });

  it('refuses a wrong password without subscribing, echoing or logging it, and refuses a chat that keeps guessing', async () => {
    const b = await startBot();
    const chat = newChat();
    const wrong = 'Tr0ub4dor&3-guess';
    const msg = api.userSays(chat, `/start alice:${wrong}`);
    await api.waitForSent(chat, (t) => t === 'Refused: wrong login or password.');
    assert.ok(
      api.deleted.some((d) => d.chat_id === chat && d.message_id === msg),
      'the wrong password is deleted too',
    );
    assert.deepEqual(status(b).subscribers, []);
    assert.equal(status(b).refused_logins, 1);

    b.deviations = [deviation('group-inactive', 'group 2 has no active instance')];
    await poll(b);
    api.userSays(chat, '/state');
    await api.waitForSent(chat, (t) => t.startsWith('This chat is not subscribed'));
    assert.ok(!sentTo(chat).some((s) => s.text.includes('group 2')), 'nothing about the system reaches it');

    // A right login with a wrong password, a wrong login with a right password.
    api.userSays(chat, `/start alice:${BOB.password}`);
    api.userSays(chat, `/start carol:${ALICE.password}`);
    for (let i = 0; i < 2; i++) api.userSays(chat, `/start bob:guess-${i}`);
    await until(
      'five refusals',
      async () => sentTo(chat).filter((s) => s.text.startsWith('Refused: wrong')).length === 5,
    );
    api.userSays(chat, `/start ${ALICE.login}:${ALICE.password}`);
    await api.waitForSent(chat, (t) => t.startsWith('Refused: too many wrong attempts'));
    assert.deepEqual(
      status(b).subscribers,
      [],
      'even the right password is refused once the attempts are used up',
    );

    const everything = [...api.sent.map((s) => s.text), ...b.logLines].join('\n');
    for (const secret of [wrong, ALICE.password, BOB.password])
      assert.ok(!everything.includes(secret), `a password appears in a message or a log line`);
    assert.ok(
      b.logLines.some((l) => l.includes('wrong login or password')),
      'the refusal is logged',
    );

    // Once the lockout window has passed the chat may try again.
    await b.clock.advance(15 * 60_000);
    await subscribe(b, chat);
    await stopBot(b);
  });

  it('/state answers the system state now; an unknown command gets the help', async () => {
    const b = await startBot({
      deviations: [deviation('node-unreachable', 'node mware2 (group 2) does not answer')],
    });
    const chat = newChat();
    await subscribe(b, chat);
    api.userSays(chat, '/state');
    const s = await api.waitForSent(chat, (t) => t.startsWith('mware demo: 1 nodes; 1'));
    assert.match(
      s.text,
      /^mware demo: 1 nodes; 1 deviations \(.*\):\nCRITICAL \[mware1@main\]: node mware2 \(group 2\) does not answer/,
    );
    b.deviations = [];
    api.userSays(chat, '/state@mware_test_bot');
    await api.waitForSent(chat, (t) => t.includes('healthy, no deviation'));
    api.userSays(chat, 'hello');
    await api.waitForSent(chat, (t) => t.startsWith('mware system state bot.'));

    // The Bot API asks the bot to slow down (429, retry_after 3): the message goes out once those 3 s have passed.
    const sentBefore = sentTo(chat).length;
    const timers = b.clock.pending;
    api.failNext('sendMessage', 429, 'Too Many Requests: retry after 3', 3);
    api.userSays(chat, '/state');
    await until('the bot waits out the 429', async () => b.clock.pending > timers);
    await b.clock.advance(2_999);
    assert.equal(sentTo(chat).length, sentBefore, 'not before retry_after');
    await b.clock.advance(1);
    await api.waitForSent(chat, (t) => t.startsWith('mware demo: 1 nodes; healthy'));
    assert.equal(status(b).send_errors, 0);

    // The administrator blocks the bot: the next broadcast is refused with 403 and the chat is unsubscribed.
    api.block(chat);
    b.deviations = [deviation('actor-failed', '/pg/main (pg-controller) has failed and is not restarted')];
    await poll(b);
    await until('the blocked chat is dropped', async () => status(b).subscribers.length === 0);
    assert.equal(b.saved()?.subscribers.length, 0, 'and that is saved');
    await stopBot(b);
  });

  it('paces a broadcast to many administrators under the Bot API’s limit: a burst, then SEND_PER_S a second', async () => {
    const b = await startBot();
    const chats = Array.from({ length: SEND_PER_S + 15 }, () => newChat());
    for (const [i, chat] of chats.entries()) {
      await subscribe(b, chat);
      if (i % 20 === 19) await b.clock.advance(1_000); // the "Subscribed" replies are paced too
    }
    const news = () =>
      api.sent.filter((m) => chats.includes(m.chat_id) && m.text.startsWith('mware demo:\nNEW')).length;
    b.deviations = [deviation('pg-failover', 'PostgreSQL cluster main failed over to pg2')];
    // The clock stops exactly at the poll (poll() would run on past it, and with it the paced sends).
    const before = status(b).last_poll_at;
    await b.clock.advance(POLL_MS - b.clock.now());
    await until('the poll has run', async () => status(b).last_poll_at !== before);
    await until('the first burst is out', async () => news() === SEND_PER_S, {
      detail: () => `${news()} sent`,
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(news(), SEND_PER_S, 'no more while the clock stands still');
    await b.clock.advance(1_000 / SEND_PER_S);
    await until('one more a 25th of a second later', async () => news() === SEND_PER_S + 1);
    await b.clock.advance(1_000);
    await until('the rest within the next second', async () => news() === chats.length);
    assert.equal(status(b).send_errors, 0);
    await stopBot(b);
  });

  it('keeps its subscriptions and what it announced across a restart: a held deviation is not announced again, its clearing is', async () => {
    const first = await startBot();
    const chat = newChat();
    await subscribe(first, chat);
    first.deviations = [
      deviation('cert-expiring', 'certificate of sip.example.ru expires in 9 days', 'warning'),
    ];
    await poll(first);
    await api.waitForSent(chat, (t) => t.includes('NEW warning'));
    await stopBot(first);

    const second = await startBot({
      restored: first.saved(),
      deviations: first.deviations,
      clock: first.clock,
    });
    assert.deepEqual(
      status(second).subscribers.map((s) => s.chat_id),
      [chat],
    );
    await poll(second);
    assert.equal(sentTo(chat).filter((s) => s.text.includes('NEW')).length, 1);
    second.deviations = [];
    await poll(second);
    await api.waitForSent(chat, (t) => t.includes('CLEARED warning'));
    // The offset was saved: the /start is not handled again.
    assert.equal(sentTo(chat).filter((s) => s.text.startsWith('Subscribed')).length, 1);
    await stopBot(second);
  });

  it('a Bot API that refuses it (a wrong token, a second poller: 409) is its own deviation, retried with backoff until it clears', async () => {
    const wrongToken = '999:not-the-token-of-this-bot';
    const b = await startBot({ token: wrongToken });
    await until('the failure is seen', async () => status(b).api_error !== null);
    const [d] = deviationsOf(b);
    assert.equal(d?.kind, 'telegram-api');
    assert.equal(d?.source, '/services/telegram');
    assert.deepEqual(d?.details, { code: 'MW_ERR_TELEGRAM_API', error: 'getUpdates: 401 Unauthorized' });
    assert.ok(!JSON.stringify(d).includes(wrongToken), 'the token is not in the deviation');
    await stopBot(b);

    const ok = await startBot();
    const chat = newChat();
    await subscribe(ok, chat);
    await until('a long poll waits', async () => api.waiting === 1);
    // Another bot instance with the same token polls: the bot's waiting getUpdates is ended with 409.
    const other = fetch(`${api.url}/bot${api.token}/getUpdates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offset: -1, timeout: 0 }),
    });
    await other;
    await until('the conflict is seen', async () => status(ok).api_error !== null);
    assert.match(status(ok).api_error?.message ?? '', /409 Conflict: terminated by other getUpdates request/);
    // The backoff (1 s on the bot's clock) passes; the next getUpdates succeeds and the deviation is gone.
    await ok.clock.advance(999);
    assert.equal(api.waiting, 0, 'no getUpdates before the backoff has passed');
    await ok.clock.advance(1);
    api.userSays(chat, '/state');
    await api.waitForSent(chat, (t) => t.includes('healthy'));
    assert.equal(status(ok).api_error, null);
    assert.deepEqual(deviationsOf(ok), []);
    await stopBot(ok);
  });
});

describe('the Telegram bot and the system state in a node (topology → /services/telegram), against the fake Bot API', () => {
  it('serves GET /api/monitor/v1/system/state, finds the bot under /services and a restarted actor, and the bot sends them', async () => {
    process.env.TEST_TELEGRAM_TOKEN = api.token;
    process.env.TEST_TELEGRAM_ALICE = ALICE.password;
    const n = await startApiNode({
      role: {
        telegram: {
          api_base_url: api.url,
          token: '${env:TEST_TELEGRAM_TOKEN}',
          admins: [{ login: 'alice', password: '${env:TEST_TELEGRAM_ALICE}' }],
          long_poll_s: 1,
        },
      },
    });
    try {
      const state = async () => {
        const res = await n.call('/api/monitor/v1/system/state', { token: TOKENS.reader });
        assert.equal(res.status, 200);
        const s = SystemStateSchema.parse(await res.json());
        // The machine's own load is not this test's to control.
        return { ...s, deviations: s.deviations.filter((d) => d.kind !== 'cpu-load') };
      };
      assert.equal((await n.call('/api/monitor/v1/system/state', { token: null })).status, 401);
      const healthy = await state();
      assert.deepEqual(healthy.deviations, []);
      assert.deepEqual(healthy.nodes, [
        { name: 'mware1', site: 'main', group: 11120, role: 'active', reachable: true },
      ]);
      assert.equal(n.node.directory.get('/services/telegram')?.state, 'running');

      const chat = newChat();
      await subscribe(undefined, chat);
      api.userSays(chat, '/state');
      await api.waitForSent(chat, (t) => t.startsWith('mware apitest: 1 nodes;'));

      // An actor crashes and is restarted: a deviation of the node, with a since that holds.
      const path = await startTestActor(n, 'crashy');
      const crash = await n.call(`/api/v1/actors${path}/messages?reply=true`, {
        method: 'POST',
        body: JSON.stringify({ type: 'throw', payload: 'boom' }),
      });
      assert.equal(crash.status, 500);
      await until('the restart shows', async () =>
        (await state()).deviations.some((d) => d.kind === 'actor-restarting' && d.source === path),
      );
      const [restart] = (await state()).deviations;
      assert.equal(restart?.node, 'mware1');
      assert.equal((await state()).deviations[0]?.since, restart?.since);
      // The crash's text is for admin tokens only, as in the tree.
      assert.equal(restart?.details?.['error'], undefined);
      const asAdmin = SystemStateSchema.parse(await (await n.call('/api/monitor/v1/system/state')).json());
      assert.equal(asAdmin.deviations.find((d) => d.source === path)?.details?.['error'], 'boom');

      // The shell's `state` reads the same.
      let out = '';
      const sink = new Writable({
        write(chunk: Buffer, _e, cb) {
          out += chunk.toString();
          cb();
        },
      });
      const client = new MwareClient({ url: n.url, token: TOKENS.reader });
      assert.equal(await runOnce(client, 'state', sink, false), 0, out);
      assert.match(out, /^apitest · 1 nodes · \d+ deviations · collected by mware1 at /);
      assert.match(
        out,
        new RegExp(
          `\\n  warning  mware1@main\\s+actor-restarting\\s+${path} \\(test-counter\\) is restarting`,
        ),
      );

      // poll-now: the bot collects the state and sends what is new to the subscribed chat.
      const res = await n.call('/api/v1/actors/services/telegram/messages?reply=true', {
        method: 'POST',
        body: JSON.stringify({ type: 'poll-now', payload: null }),
      });
      assert.equal(res.status, 200);
      const report = ((await res.json()) as { result: PollReport }).result;
      // The restart, and the machine's CPU load if it is high now.
      assert.ok(report.raised >= 1 && report.raised <= 2, JSON.stringify(report));
      assert.deepEqual([report.cleared, report.notified], [0, 1]);
      await api.waitForSent(chat, (t) =>
        t.includes(`NEW warning [mware1@main]: ${path} (test-counter) is restarting`),
      );

      // The Bot API refuses the bot once: the bot's own deviation is in the system state, found under /services.
      api.failNext('getUpdates', 401, 'Unauthorized');
      await until('the bot’s deviation shows', async () =>
        (await state()).deviations.some(
          (d) => d.kind === 'telegram-api' && d.source === '/services/telegram',
        ),
      );
      const logs = n.logLines.join('\n');
      assert.ok(!logs.includes(ALICE.password) && !logs.includes(api.token), 'no secret in the node’s log');
    } finally {
      await n.stop();
    }
  });
});
