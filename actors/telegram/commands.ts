/**
 * What an administrator types to the bot. A command may carry the bot's name (`/start@mware_bot …`, as Telegram
 * sends it from a group chat's menu); anything that is not a known command gets the help text.
 */
export type Command =
  | { type: 'start'; login: string; password: string }
  /** `/start` alone: resumes a subscribed chat, explains itself to any other. */
  | { type: 'start-bare' }
  /** `/start` with arguments that are not `<login>:<password>`. */
  | { type: 'start-malformed' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** `/silent` toggles; `/silent on|off` sets. */
  | { type: 'silent'; on: boolean | undefined }
  | { type: 'state' }
  | { type: 'stop' }
  | { type: 'help' };

const COMMAND = /^\/([a-z_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/;

export function parseCommand(text: string): Command {
  const m = COMMAND.exec(text.trim());
  if (!m) return { type: 'help' };
  const [, name, rest] = m;
  const arg = rest?.trim() ?? '';
  switch (name ?? '') {
    case 'start': {
      if (arg === '') return { type: 'start-bare' };
      // The login has no colon (topology rule); the password may hold any character, colons included.
      const colon = arg.indexOf(':');
      if (colon <= 0 || colon === arg.length - 1) return { type: 'start-malformed' };
      return { type: 'start', login: arg.slice(0, colon), password: arg.slice(colon + 1) };
    }
    case 'pause':
      return { type: 'pause' };
    case 'resume':
      return { type: 'resume' };
    case 'silent':
      return { type: 'silent', on: arg === 'on' ? true : arg === 'off' ? false : undefined };
    case 'state':
      return { type: 'state' };
    case 'stop':
      return { type: 'stop' };
    default:
      return { type: 'help' };
  }
}

export const HELP =
  'mware system state bot.\n' +
  '/start <login>:<password> — subscribe to new and cleared deviations\n' +
  '/state — the system state now\n' +
  '/pause — no broadcasts until /resume (or /start)\n' +
  '/silent [on|off] — broadcasts without a notification sound\n' +
  '/stop — unsubscribe';
