import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../src/supervision/clock.ts';

/**
 * The administrators' accounts (`telegram.admins`) and the check of `/start <login>:<password>`. Logins and
 * passwords are compared by their SHA-256 digests with timingSafeEqual against every account, so the time taken
 * says nothing about how close a guess was; a chat that keeps guessing is refused for a while without a check.
 */

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Wrong attempts a chat may make within {@link LOCKOUT_MS} before it is refused until the window ends. */
export const MAX_ATTEMPTS = 5;
export const LOCKOUT_MS = 15 * 60_000;

export class Accounts {
  private readonly entries: { login: Buffer; password: Buffer; name: string }[];
  private readonly failures = new Map<number, { count: number; firstAt: number }>();

  constructor(
    admins: readonly { login: string; password: string }[],
    private readonly clock: Clock,
  ) {
    this.entries = admins.map((a) => ({
      login: digest(a.login),
      password: digest(a.password),
      name: a.login,
    }));
  }

  /** Whether `chat` may try a login now (it has not used up its attempts). */
  mayTry(chat: number): boolean {
    const f = this.failures.get(chat);
    if (!f) return true;
    if (this.clock.now() - f.firstAt >= LOCKOUT_MS) {
      this.failures.delete(chat);
      return true;
    }
    return f.count < MAX_ATTEMPTS;
  }

  /** The account's login when the pair matches one, else undefined (and the attempt counts against `chat`). */
  check(chat: number, login: string, password: string): string | undefined {
    const l = digest(login);
    const p = digest(password);
    let found: string | undefined;
    for (const e of this.entries) {
      // Both comparisons always run: a right login with a wrong password takes as long as a wrong login.
      const loginOk = timingSafeEqual(e.login, l);
      const passwordOk = timingSafeEqual(e.password, p);
      if (loginOk && passwordOk && found === undefined) found = e.name;
    }
    if (found !== undefined) {
      this.failures.delete(chat);
      return found;
    }
    const f = this.failures.get(chat);
    if (f) f.count++;
    else this.failures.set(chat, { count: 1, firstAt: this.clock.now() });
    return undefined;
  }
}
