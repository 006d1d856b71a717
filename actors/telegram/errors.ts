import { CallerError, errorKind, registerErrorClass } from '../../src/errors.ts';

/** The Bot API answered `ok: false` (a refused token, a conflict, a chat that blocked the bot) or garbage. */
export class TelegramApiError extends errorKind('MW_ERR_TELEGRAM_API') {}
registerErrorClass(TelegramApiError);

/** The Bot API could not be reached (refused, timed out): nothing was answered. */
export class TelegramUnreachable extends errorKind('MW_ERR_TELEGRAM_UNREACHABLE') {}
registerErrorClass(TelegramUnreachable);

/**
 * `poll-now` could not collect the system state. A caller's error as far as the actor goes: the bot runs on and the
 * next poll tries again.
 */
export class SystemStateUnavailable extends errorKind('MW_ERR_SYSTEM_STATE_UNAVAILABLE', CallerError) {}
registerErrorClass(SystemStateUnavailable);
