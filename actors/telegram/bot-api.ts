import { z } from 'zod';
import { TelegramApiError, TelegramUnreachable } from './errors.ts';

/**
 * The few Bot API methods the bot uses (https://core.telegram.org/bots/api): `getUpdates` (long polling),
 * `sendMessage`, `deleteMessage`. Every method is `POST <base>/bot<token>/<method>` with a JSON body, answered by
 * `{ok: true, result}` or `{ok: false, error_code, description}`. The URL holds the token, so no error of this module
 * names it: errors carry the method, the Bot API's code and description, or the network cause only.
 */

/** An incoming message, as much of it as the bot reads. */
const Message = z.looseObject({
  message_id: z.int(),
  chat: z.looseObject({ id: z.int(), type: z.string() }),
  from: z.looseObject({ id: z.int(), username: z.string().optional() }).optional(),
  text: z.string().optional(),
});

const Update = z.looseObject({ update_id: z.int(), message: Message.optional() });
export type Update = z.infer<typeof Update>;

const Answer = z.union([
  z.looseObject({ ok: z.literal(true), result: z.unknown() }),
  z.looseObject({
    ok: z.literal(false),
    error_code: z.int(),
    description: z.string(),
    parameters: z.looseObject({ retry_after: z.int().optional() }).optional(),
  }),
]);

/** Added to a long poll's own timeout before the request is given up. */
const SLACK_MS = 10_000;
const CALL_TIMEOUT_MS = 15_000;

export class BotApi {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /** Updates from `offset` on (confirming every earlier one), waiting up to `timeoutS` for one to come. */
  async getUpdates(offset: number, timeoutS: number, signal: AbortSignal): Promise<Update[]> {
    const result = await this.call(
      'getUpdates',
      { offset, timeout: timeoutS, allowed_updates: ['message'] },
      timeoutS * 1000 + SLACK_MS,
      signal,
    );
    return z.array(Update).parse(result);
  }

  async sendMessage(chatId: number, text: string, silent: boolean): Promise<void> {
    await this.call('sendMessage', {
      chat_id: chatId,
      text,
      disable_notification: silent,
      link_preview_options: { is_disabled: true },
    });
  }

  async deleteMessage(chatId: number, messageId: number): Promise<void> {
    await this.call('deleteMessage', { chat_id: chatId, message_id: messageId });
  }

  private async call(
    method: string,
    body: Record<string, unknown>,
    timeoutMs = CALL_TIMEOUT_MS,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.base}/bot${this.token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new TelegramUnreachable(`${method}: the Bot API cannot be reached (${this.cause(err)})`);
    }
    const text = await res.text().catch(() => '');
    let answer: z.infer<typeof Answer>;
    try {
      answer = Answer.parse(JSON.parse(text));
    } catch {
      throw new TelegramApiError(
        `${method}: the Bot API answered HTTP ${res.status} without a Bot API reply`,
        {
          details: { method, status: res.status },
        },
      );
    }
    if (answer.ok) return answer.result;
    throw new TelegramApiError(`${method}: ${answer.error_code} ${answer.description}`, {
      details: {
        method,
        error_code: answer.error_code,
        description: answer.description,
        ...(answer.parameters?.retry_after !== undefined && { retry_after: answer.parameters.retry_after }),
      },
    });
  }

  /** Why a request failed, without the URL (it holds the token). */
  private cause(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.cause?.message ?? e.message ?? 'error');
    return String(why).split(this.token).join('<token>');
  }
}

/** The Bot API's `error_code` of a failed call, if it answered one. */
export function errorCodeOf(err: unknown): number | undefined {
  if (!(err instanceof TelegramApiError)) return undefined;
  const code = err.details?.['error_code'];
  return typeof code === 'number' ? code : undefined;
}
