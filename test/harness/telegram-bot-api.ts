import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { until } from './poll.ts';

/**
 * A local stand-in for the Telegram Bot API (https://core.telegram.org/bots/api), for the bot's tests: no real Bot
 * API can run here, so this one follows the documented shapes as closely as the bot's use needs.
 *  - `<base>/bot<token>/<method>`, GET or POST, parameters in the query string, a urlencoded or a JSON body;
 *    method names are case-insensitive; a wrong token is `401 Unauthorized`, an unknown method `404 Not Found`.
 *  - Every answer is `{ok: true, result}` or `{ok: false, error_code, description}` (the HTTP status is the code).
 *  - `getUpdates {offset, limit, timeout}`: updates with `update_id >= offset`, and an offset confirms (drops) every
 *    earlier update; with none pending it waits up to `timeout` seconds. A second getUpdates while one waits ends
 *    the first with `409 Conflict: terminated by other getUpdates request; …`.
 *  - `sendMessage {chat_id, text, disable_notification}`: a Message; `400 Bad Request: chat not found` for a chat
 *    that never wrote to the bot, `400 … message text is empty` / `… message is too long` (over 4096),
 *    `403 Forbidden: bot was blocked by the user` for a chat that blocked it.
 *  - `deleteMessage {chat_id, message_id}`: `true`, or `400 Bad Request: message to delete not found`.
 *  - `getMe`: the bot's User.
 */

export interface SentMessage {
  chat_id: number;
  text: string;
  disable_notification: boolean;
  message_id: number;
}

interface Waiter {
  offset: number;
  limit: number;
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

interface StoredMessage {
  message_id: number;
  chat_id: number;
}

const BOT = { id: 7000001, is_bot: true, first_name: 'mware', username: 'mware_test_bot' };

export interface FakeBotApi {
  /** The base URL to configure (`api_base_url`). */
  url: string;
  token: string;
  /** A user writes `text` in the private chat `chatId` (the chat id is the user's id, as in Telegram). */
  userSays(chatId: number, text: string): number;
  /** Every sendMessage accepted, in order. */
  readonly sent: SentMessage[];
  /** Every deleteMessage accepted. */
  readonly deleted: { chat_id: number; message_id: number }[];
  /** Every call, method and parameters as received (to check what the bot sends). */
  readonly calls: { method: string; params: Record<string, unknown> }[];
  /** The chat blocks the bot: sendMessage to it is 403 from now on. */
  block(chatId: number): void;
  /** The next call of `method` answers this error (with `parameters.retry_after` when given, as a 429 does). */
  failNext(method: string, errorCode: number, description: string, retryAfter?: number): void;
  /** Waits until a message to `chatId` matching `match` has been sent; returns it. */
  waitForSent(chatId: number, match: (text: string) => boolean, ms?: number): Promise<SentMessage>;
  /** getUpdates requests waiting now. */
  readonly waiting: number;
  stop(): Promise<void>;
}

export async function startFakeBotApi(
  token = '123456789:AAtest-fake_token_for_mware_tests',
): Promise<FakeBotApi> {
  let nextUpdate = 1;
  let nextMessage = 1;
  const updates: { update_id: number; message: Record<string, unknown> }[] = [];
  const messages: StoredMessage[] = [];
  const knownChats = new Set<number>();
  const blocked = new Set<number>();
  const failures = new Map<string, { code: number; description: string; retryAfter?: number }>();
  const sent: SentMessage[] = [];
  const deleted: { chat_id: number; message_id: number }[] = [];
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  let waiter: Waiter | undefined;

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    if (res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, code: number, description: string, retryAfter?: number) =>
    answer(res, code, {
      ok: false,
      error_code: code,
      description,
      ...(retryAfter !== undefined && { parameters: { retry_after: retryAfter } }),
    });
  const ok = (res: ServerResponse, result: unknown) => answer(res, 200, { ok: true, result });

  const pending = (offset: number, limit: number) => {
    // An offset confirms every update before it: they are gone for good.
    if (offset > 0) while (updates.length > 0 && (updates[0]?.update_id ?? 0) < offset) updates.shift();
    const from = offset < 0 ? updates.slice(offset) : updates.filter((u) => u.update_id >= offset);
    return from.slice(0, limit);
  };

  const flushWaiter = () => {
    const w = waiter;
    if (!w) return;
    const found = pending(w.offset, w.limit);
    if (found.length === 0) return;
    waiter = undefined;
    clearTimeout(w.timer);
    ok(w.res, found);
  };

  const handlers: Record<string, (p: Record<string, unknown>, res: ServerResponse) => void> = {
    getme: (_p, res) => ok(res, BOT),
    getupdates: (p, res) => {
      const offset = Number(p['offset'] ?? 0);
      const limit = Math.min(100, Math.max(1, Number(p['limit'] ?? 100)));
      const timeout = Math.max(0, Number(p['timeout'] ?? 0));
      if (waiter) {
        const old = waiter;
        waiter = undefined;
        clearTimeout(old.timer);
        fail(
          old.res,
          409,
          'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
        );
      }
      const found = pending(offset, limit);
      if (found.length > 0 || timeout === 0) return ok(res, found);
      const w: Waiter = {
        offset,
        limit,
        res,
        timer: setTimeout(() => {
          if (waiter === w) waiter = undefined;
          ok(res, []);
        }, timeout * 1000),
      };
      waiter = w;
      res.on('close', () => {
        if (waiter === w) {
          waiter = undefined;
          clearTimeout(w.timer);
        }
      });
    },
    sendmessage: (p, res) => {
      const chatId = Number(p['chat_id']);
      const text = typeof p['text'] === 'string' ? p['text'] : '';
      if (!Number.isInteger(chatId) || !knownChats.has(chatId))
        return fail(res, 400, 'Bad Request: chat not found');
      if (blocked.has(chatId)) return fail(res, 403, 'Forbidden: bot was blocked by the user');
      if (text.trim() === '') return fail(res, 400, 'Bad Request: message text is empty');
      if (text.length > 4096) return fail(res, 400, 'Bad Request: message is too long');
      const m = { message_id: nextMessage++, chat_id: chatId };
      messages.push(m);
      const silent = p['disable_notification'] === true || p['disable_notification'] === 'true';
      sent.push({ chat_id: chatId, text, disable_notification: silent, message_id: m.message_id });
      ok(res, {
        message_id: m.message_id,
        from: BOT,
        chat: { id: chatId, type: 'private' },
        date: Math.floor(Date.now() / 1000),
        text,
      });
    },
    deletemessage: (p, res) => {
      const chatId = Number(p['chat_id']);
      const messageId = Number(p['message_id']);
      const i = messages.findIndex((m) => m.chat_id === chatId && m.message_id === messageId);
      if (i < 0) return fail(res, 400, 'Bad Request: message to delete not found');
      messages.splice(i, 1);
      deleted.push({ chat_id: chatId, message_id: messageId });
      ok(res, true);
    },
  };

  const server = createServer((req, res) => {
    void readParams(req).then(
      (params) => {
        const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
        if (!m) return fail(res, 404, 'Not Found');
        if (m[1] !== token) return fail(res, 401, 'Unauthorized');
        const method = (m[2] ?? '').toLowerCase();
        calls.push({ method, params });
        const failure = failures.get(method);
        if (failure) {
          failures.delete(method);
          return fail(res, failure.code, failure.description, failure.retryAfter);
        }
        const handler = handlers[method];
        if (!handler) return fail(res, 404, 'Not Found');
        handler(params, res);
      },
      () => fail(res, 400, 'Bad Request: can’t parse request body'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    sent,
    deleted,
    calls,
    get waiting() {
      return waiter ? 1 : 0;
    },
    userSays(chatId, text) {
      knownChats.add(chatId);
      const message = {
        message_id: nextMessage++,
        from: { id: chatId, is_bot: false, first_name: `user${chatId}` },
        chat: { id: chatId, type: 'private', first_name: `user${chatId}` },
        date: Math.floor(Date.now() / 1000),
        text,
      };
      messages.push({ message_id: message.message_id, chat_id: chatId });
      const update_id = nextUpdate++;
      updates.push({ update_id, message });
      flushWaiter();
      return message.message_id;
    },
    block: (chatId) => void blocked.add(chatId),
    failNext: (method, code, description, retryAfter) =>
      void failures.set(method.toLowerCase(), {
        code,
        description,
        ...(retryAfter !== undefined && { retryAfter }),
      }),
    async waitForSent(chatId, match, ms = 5_000) {
      let found: SentMessage | undefined;
      await until(
        `a message to chat ${chatId} matching ${String(match)}`,
        async () => {
          found = sent.find((s) => s.chat_id === chatId && match(s.text));
          return found !== undefined;
        },
        { ms, detail: () => `sent: ${JSON.stringify(sent.map((s) => [s.chat_id, s.text]))}` },
      );
      return found as SentMessage;
    },
    async stop() {
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.res.destroy();
        waiter = undefined;
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The call's parameters: the query string, then a JSON or urlencoded body over it. */
async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = Object.fromEntries(
    new URL(req.url ?? '/', 'http://x').searchParams,
  );
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  if (body === '') return params;
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json'))
    return { ...params, ...(JSON.parse(body) as Record<string, unknown>) };
  if (type.startsWith('application/x-www-form-urlencoded'))
    return { ...params, ...Object.fromEntries(new URLSearchParams(body)) };
  throw new Error('unsupported content type');
}
