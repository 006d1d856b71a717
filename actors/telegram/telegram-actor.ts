import { z } from 'zod';
import type { ActorContext, Behavior, Handlers, HandlersOf } from '../../src/actor-system/kind.ts';
import { defineActor } from '../../src/actor-system/kind.ts';
import { serializeError } from '../../src/errors.ts';
import { SystemStateUnavailable } from './errors.ts';
import type { Deviation } from '../../src/monitor/deviation.ts';
import { deviationKey } from '../../src/monitor/deviation.ts';
import type { SystemState } from '../../src/monitor/schemas.ts';
import type { TimerHandle } from '../../src/supervision/clock.ts';
import type { Telegram } from '../../topology/schema.ts';
import { Accounts } from './accounts.ts';
import type { Update } from './bot-api.ts';
import { BotApi, errorCodeOf } from './bot-api.ts';
import type { Command } from './commands.ts';
import { HELP, parseCommand } from './commands.ts';
import { broadcastText, chunks, stateText } from './format.ts';
import type { KnownDeviation, PollReport, Subscriber, TelegramProtocol, TelegramStatus } from './protocol.ts';
import { TelegramState } from './protocol.ts';
import { TokenBucket } from '../../src/rate-limit.ts';

/**
 * `/services/telegram` (06-services.md "Monitoring services"): a Telegram bot for the master domain's
 * administrators. It long-polls the Bot API for commands (`/start <login>:<password>`, `/pause`, `/resume`,
 * `/silent`, `/state`, `/stop`) and, every `poll_s`, collects the system state and sends the deviations that are
 * new or cleared since the last poll to every subscribed chat that is not paused. Subscriptions, the update offset
 * and the deviations already announced are saved, so a restart or a takeover neither forgets a chat nor announces
 * again what was announced. A failing Bot API is retried with backoff and is itself a deviation of the bot.
 */

export interface TelegramArgs {
  config: Telegram;
  /** The system state now (the node's collector). */
  systemState: () => Promise<SystemState>;
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

class TelegramBot implements Behavior<TelegramProtocol> {
  private state: TelegramState;
  private readonly api: BotApi;
  private readonly sendBucket: TokenBucket;
  private readonly accounts: Accounts;
  private readonly abort = new AbortController();
  private stopped = false;
  private receiving: Promise<void> | undefined;
  private pollTimer: TimerHandle | undefined;
  private polling: Promise<PollReport> | undefined;
  private wake: (() => void) | undefined;
  private apiError: TelegramStatus['api_error'] = null;
  private lastPollAt: string | null = null;
  private readonly counts = { updates: 0, sent: 0, send_errors: 0, refused_logins: 0 };

  constructor(
    private readonly args: TelegramArgs,
    private readonly ctx: ActorContext<TelegramState>,
  ) {
    this.api = new BotApi(args.config.api_base_url, args.config.token);
    this.sendBucket = new TokenBucket(SEND_PER_S, SEND_PER_S, () => ctx.clock.now());
    this.accounts = new Accounts(args.config.admins, ctx.clock);
    const restored = TelegramState.safeParse(ctx.state.restored);
    if (ctx.state.restored !== undefined && !restored.success)
      ctx.log.warn('telegram: the saved state does not parse; starting with no subscriber');
    this.state = restored.success ? restored.data : { offset: 0, subscribers: [], known: null };
  }

  start(): this {
    this.receiving = this.receive();
    this.schedulePoll();
    return this;
  }

  get handlers(): Handlers<TelegramProtocol> {
    return HANDLERS;
  }

  static readonly handlers: HandlersOf<TelegramProtocol, TelegramBot> = {
    status() {
      return {
        subscribers: this.state.subscribers.map((s) => ({ ...s })),
        known_deviations: this.state.known?.length ?? 0,
        last_poll_at: this.lastPollAt,
        api_error: this.apiError,
        ...this.counts,
      };
    },
    deviations() {
      return this.deviations();
    },
    'poll-now'() {
      return this.pollNow();
    },
  };

  private deviations(): Deviation[] {
    const e = this.apiError;
    if (!e) return [];
    return [
      {
        source: this.ctx.path,
        kind: 'telegram-api',
        severity: 'warning',
        since: e.since,
        message: 'the Telegram bot cannot use the Bot API: administrators get no broadcasts',
        details: { code: e.code, error: e.message },
      },
    ];
  }

  // ------------------------------------------------------------------------------------------ receiving commands

  /** The long-polling loop: one getUpdates at a time (a second one would be refused with 409). */
  private async receive(): Promise<void> {
    let backoffMs = BACKOFF_MIN_MS;
    while (!this.stopped) {
      let updates: Update[];
      try {
        updates = await this.api.getUpdates(
          this.state.offset,
          this.args.config.long_poll_s,
          this.abort.signal,
        );
      } catch (err) {
        if (this.stopped) return;
        this.apiFailed(err);
        await this.sleep(Math.max(backoffMs, (retryAfterS(err) ?? 0) * 1000));
        backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
        continue;
      }
      this.apiError = null;
      backoffMs = BACKOFF_MIN_MS;
      for (const u of updates) {
        this.state.offset = Math.max(this.state.offset, u.update_id + 1);
        this.counts.updates++;
        await this.onUpdate(u);
      }
      if (updates.length > 0) await this.save();
    }
  }

  private async onUpdate(u: Update): Promise<void> {
    const m = u.message;
    if (m?.text === undefined) return;
    const chat = m.chat.id;
    const cmd = parseCommand(m.text);
    try {
      await this.onCommand(chat, cmd, m.message_id);
    } catch (err) {
      this.ctx.log.warn({ chat, command: cmd.type, err: serializeError(err) }, 'telegram: a command failed');
    }
  }

  private async onCommand(chat: number, cmd: Command, messageId: number): Promise<void> {
    const sub = this.state.subscribers.find((s) => s.chat_id === chat);
    switch (cmd.type) {
      case 'start':
        return this.onStart(chat, cmd.login, cmd.password, messageId);
      case 'start-bare':
        if (!sub) return this.reply(chat, HELP);
        sub.paused = false;
        return this.reply(chat, 'Broadcasts resumed.', sub.silent);
      case 'start-malformed':
        // It may hold a password typed the wrong way: gone from the chat as well.
        await this.api.deleteMessage(chat, messageId).catch(() => undefined);
        return this.reply(chat, 'Use /start <login>:<password>.');
      case 'pause':
        if (!sub) return this.notSubscribed(chat);
        sub.paused = true;
        return this.reply(chat, 'Paused: no broadcasts until /resume or /start.', sub.silent);
      case 'resume':
        if (!sub) return this.notSubscribed(chat);
        sub.paused = false;
        return this.reply(chat, 'Broadcasts resumed.', sub.silent);
      case 'silent':
        if (!sub) return this.notSubscribed(chat);
        sub.silent = cmd.on ?? !sub.silent;
        return this.reply(
          chat,
          sub.silent ? 'Silent mode on: broadcasts arrive without a sound.' : 'Silent mode off.',
          sub.silent,
        );
      case 'state':
        if (!sub) return this.notSubscribed(chat);
        return this.reply(chat, await this.stateNow(), sub.silent);
      case 'stop':
        if (!sub) return this.notSubscribed(chat);
        this.state.subscribers = this.state.subscribers.filter((s) => s !== sub);
        this.ctx.log.info({ chat, login: sub.login }, 'telegram: unsubscribed');
        return this.reply(chat, 'Unsubscribed. /start <login>:<password> to subscribe again.');
      case 'help':
        return this.reply(chat, HELP);
      default: {
        const never: never = cmd;
        return never;
      }
    }
  }

  private async onStart(chat: number, login: string, password: string, messageId: number): Promise<void> {
    // The message holds a password: it does not stay in the chat, whatever the outcome.
    await this.api.deleteMessage(chat, messageId).catch(() => undefined);
    if (!this.accounts.mayTry(chat)) {
      this.counts.refused_logins++;
      this.ctx.log.warn({ chat }, 'telegram: /start refused, too many wrong attempts from this chat');
      return this.reply(chat, 'Refused: too many wrong attempts. Try again later.');
    }
    const account = this.accounts.check(chat, login, password);
    if (account === undefined) {
      this.counts.refused_logins++;
      this.ctx.log.warn({ chat }, 'telegram: /start refused, wrong login or password');
      return this.reply(chat, 'Refused: wrong login or password.');
    }
    const now = new Date(this.ctx.clock.wallNow()).toISOString();
    const old = this.state.subscribers.find((s) => s.chat_id === chat);
    const sub: Subscriber = {
      chat_id: chat,
      login: account,
      paused: false,
      silent: old?.silent ?? false,
      since: now,
    };
    this.state.subscribers = [...this.state.subscribers.filter((s) => s.chat_id !== chat), sub];
    await this.save();
    this.ctx.log.info({ chat, login: account }, 'telegram: subscribed');
    await this.reply(
      chat,
      `Subscribed as ${account}: new and cleared deviations will be sent here. /state for the state now.`,
      sub.silent,
    );
  }

  private notSubscribed(chat: number): Promise<void> {
    return this.reply(chat, 'This chat is not subscribed: /start <login>:<password>.');
  }

  private async stateNow(): Promise<string> {
    try {
      return stateText(await this.args.systemState());
    } catch (err) {
      return `The system state could not be collected (${serializeError(err).code}).`;
    }
  }

  // ------------------------------------------------------------------------------------------------- polling

  /** Every `poll_s` on the actor's clock, at a fixed rate (a slow poll does not push the next one back). */
  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = this.ctx.clock.setTimeout(() => {
      this.schedulePoll();
      this.pollNow().catch((err: unknown) =>
        this.ctx.log.warn({ err: serializeError(err) }, 'telegram: the system state poll failed'),
      );
    }, this.args.config.poll_s * 1000);
  }

  /** Collects the system state and tells the chats what is new and what cleared (one poll at a time). */
  private pollNow(): Promise<PollReport> {
    this.polling ??= this.poll().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async poll(): Promise<PollReport> {
    let s: SystemState;
    try {
      s = await this.args.systemState();
    } catch (err) {
      throw new SystemStateUnavailable('the system state could not be collected', { cause: err });
    }
    this.lastPollAt = s.collected_at;
    const current = new Map(s.deviations.map((d) => [deviationKey(d), d]));
    const known = this.state.known;
    const knownKeys = new Set((known ?? []).map((k) => k.key));
    const raised = [...current].filter(([k]) => !knownKeys.has(k)).map(([, d]) => d);
    const cleared = (known ?? []).filter((k) => !current.has(k.key));
    this.state.known = [...current].map(([key, d]) => remember(key, d));
    if (raised.length === 0 && cleared.length === 0) {
      if (known === null) await this.save();
      return { raised: 0, cleared: 0, notified: 0 };
    }
    await this.save();
    const text = broadcastText(s.cluster, raised, cleared);
    const listening = this.state.subscribers.filter((sub) => !sub.paused);
    await Promise.all(listening.map((sub) => this.reply(sub.chat_id, text, sub.silent)));
    return { raised: raised.length, cleared: cleared.length, notified: listening.length };
  }

  // --------------------------------------------------------------------------------------------------- sending

  /**
   * Sends `text` (in as many messages as it takes); a failure is counted and logged, never thrown. A `429 Too Many
   * Requests` is waited out once, for the `retry_after` the Bot API names (at most {@link MAX_RETRY_AFTER_S}).
   */
  private async reply(chat: number, text: string, silent = false): Promise<void> {
    for (const part of chunks(text)) {
      try {
        await this.paced();
        await this.api.sendMessage(chat, part, silent).catch(async (err: unknown) => {
          const wait = retryAfterS(err);
          if (errorCodeOf(err) !== 429 || wait === undefined || wait > MAX_RETRY_AFTER_S || this.stopped)
            throw err;
          await new Promise((resolve) => this.ctx.clock.setTimeout(() => resolve(undefined), wait * 1000));
          await this.api.sendMessage(chat, part, silent);
        });
        this.counts.sent++;
      } catch (err) {
        this.counts.send_errors++;
        const e = serializeError(err);
        this.ctx.log.warn({ chat, code: e.code, error: e.message }, 'telegram: a message could not be sent');
        // 403: the administrator blocked the bot or left the chat; nothing will ever reach it again.
        if (errorCodeOf(err) === 403) await this.dropChat(chat);
        return;
      }
    }
  }

  /**
   * Waits for a turn to send: the Bot API takes about 30 messages a second from a bot and answers a burst beyond it
   * with 429s, so a broadcast to many administrators goes out at {@link SEND_PER_S} a second after a first burst.
   */
  private async paced(): Promise<void> {
    for (let wait = this.sendBucket.waitMs(); wait > 0 && !this.stopped; wait = this.sendBucket.waitMs())
      await new Promise((resolve) => this.ctx.clock.setTimeout(() => resolve(undefined), wait));
    this.sendBucket.take();
  }

  private async dropChat(chat: number): Promise<void> {
    const before = this.state.subscribers.length;
    this.state.subscribers = this.state.subscribers.filter((s) => s.chat_id !== chat);
    if (this.state.subscribers.length === before) return;
    this.ctx.log.warn({ chat }, 'telegram: the chat refuses the bot; unsubscribed');
    await this.save();
  }

  // ------------------------------------------------------------------------------------------------- plumbing

  private apiFailed(err: unknown): void {
    const e = serializeError(err);
    const since = this.apiError?.since ?? new Date(this.ctx.clock.wallNow()).toISOString();
    if (this.apiError?.code !== e.code || this.apiError.message !== e.message)
      this.ctx.log.warn({ code: e.code, error: e.message }, 'telegram: the Bot API failed; retrying');
    this.apiError = { code: e.code, message: e.message, since };
  }

  private async save(): Promise<void> {
    try {
      await this.ctx.state.save(structuredClone(this.state));
    } catch (err) {
      this.ctx.log.warn({ err: serializeError(err) }, 'telegram: the state could not be saved');
    }
  }

  /** Waits `ms` on the actor's clock, or until the actor stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.ctx.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.ctx.clock.clearTimeout(t);
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.pollTimer !== undefined) this.ctx.clock.clearTimeout(this.pollTimer);
    this.wake?.();
    await this.receiving;
    await this.polling?.catch(() => undefined);
  }
}
const HANDLERS = TelegramBot.handlers;

/** Messages sent a second at most, after a burst of as many (under the Bot API's ~30 a second per bot). */
export const SEND_PER_S = 25;

/** The longest `retry_after` a message waits for; beyond it the message is given up (and counted). */
const MAX_RETRY_AFTER_S = 30;

function retryAfterS(err: unknown): number | undefined {
  const v = serializeError(err).details?.['retry_after'];
  return typeof v === 'number' ? v : undefined;
}

function remember(key: string, d: Deviation): KnownDeviation {
  return {
    key,
    severity: d.severity,
    message: d.message,
    since: d.since,
    ...(d.node !== undefined && { node: d.node }),
    ...(d.site !== undefined && { site: d.site }),
  };
}

export const telegramActor = defineActor<TelegramProtocol, TelegramArgs, TelegramState>({
  kind: 'telegram',
  moduleUrl: import.meta.url,
  exportName: 'telegramActor',
  stateKey: () => 'telegram',
  messages: {
    status: {
      payload: z.null(),
      scope: 'read',
      summary:
        'Subscribed chats (login, paused, silent), the last poll, the Bot API’s latest failure, counters',
    },
    deviations: {
      payload: z.null(),
      scope: 'read',
      summary: 'The bot’s own deviations (a Bot API it cannot use) for the system state',
    },
    'poll-now': {
      payload: z.null(),
      scope: 'admin',
      summary: 'Collects the system state now and sends what is new or cleared to the subscribed chats',
    },
  },
  create: (args, ctx) => new TelegramBot(args, ctx).start(),
});
