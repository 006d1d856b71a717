import { z } from 'zod';
import type { Deviation } from '../../src/monitor/deviation.ts';

/** Messages and saved state of the Telegram bot, the actor at `/services/telegram`. */

export const Subscriber = z.strictObject({
  chat_id: z.int(),
  login: z.string(),
  /** No broadcasts until /resume or /start. */
  paused: z.boolean(),
  /** Broadcasts are sent with `disable_notification`. */
  silent: z.boolean(),
  /** ISO 8601: when the chat subscribed. */
  since: z.string(),
});
export type Subscriber = z.infer<typeof Subscriber>;

/** A deviation already broadcast, kept to tell the next poll's new and cleared ones (and to name a cleared one). */
export const KnownDeviation = z.strictObject({
  key: z.string(),
  severity: z.enum(['warning', 'critical']),
  message: z.string(),
  node: z.string().optional(),
  site: z.string().optional(),
  since: z.string(),
});
export type KnownDeviation = z.infer<typeof KnownDeviation>;

/** What survives a restart or a takeover: who is subscribed, where the update stream is, what was announced. */
export const TelegramState = z.strictObject({
  offset: z.int(),
  subscribers: z.array(Subscriber),
  /** Null until the first poll: then every deviation found is new. */
  known: z.array(KnownDeviation).nullable(),
});
export type TelegramState = z.infer<typeof TelegramState>;

export interface TelegramStatus {
  subscribers: Subscriber[];
  /** Deviations announced and not cleared. */
  known_deviations: number;
  last_poll_at: string | null;
  /** The Bot API's latest failure, cleared by a success (never the token). */
  api_error: { code: string; message: string; since: string } | null;
  updates: number;
  sent: number;
  send_errors: number;
  refused_logins: number;
}

export interface PollReport {
  raised: number;
  cleared: number;
  /** Chats the change was sent to. */
  notified: number;
}

export type TelegramProtocol = {
  status: { request: null; reply: TelegramStatus; scope: 'read' };
  deviations: { request: null; reply: Deviation[]; scope: 'read' };
  'poll-now': { request: null; reply: PollReport; scope: 'admin' };
};
