import type { Frame } from './modesl.ts';

/** A reply frame: what FreeSWITCH sends back for each command, in the order the commands were sent. */
export type ReplyFrame = Extract<Frame, { type: 'command/reply' | 'api/response' }>;

/** What a command is, for messages and `details` (never its arguments). */
export interface CommandLabel {
  kind: 'api' | 'bgapi' | 'event' | 'filter';
  /** The command's first word (`originate`, not the dial string). */
  command: string;
}

/**
 * One sent command waiting for its reply. `deliver` runs synchronously inside the frame loop (a bgapi registers
 * its Job-UUID there, before the BACKGROUND_JOB that may follow in the same chunk is read); it may throw an
 * EslProtocolError, which closes the connection. `deliver` and `fail` are cleared when the command times out: the
 * slot then stays in the queue only to swallow its late reply.
 */
export interface ReplySlot extends CommandLabel {
  deliver: ((reply: ReplyFrame) => void) | undefined;
  fail: ((err: Error) => void) | undefined;
}

/**
 * The reply queue. ESL has no request ids: FreeSWITCH answers the commands of one connection strictly in order,
 * `command/reply` and `api/response` alike (one thread reads the socket and answers each command before reading
 * the next), so a single FIFO over every kind of command matches replies exactly — as long as no slot is ever
 * dropped before its reply arrives. A timed-out command therefore keeps its slot (see {@link ReplySlot}).
 */
export class ReplyQueue {
  private slots: ReplySlot[] = [];
  private head = 0;

  get size(): number {
    return this.slots.length - this.head;
  }

  push(slot: ReplySlot): void {
    this.slots.push(slot);
  }

  /** The oldest slot, removed; undefined when no command is waiting (a reply nobody asked for). */
  shift(): ReplySlot | undefined {
    if (this.head >= this.slots.length) return undefined;
    const slot = this.slots[this.head];
    this.slots[this.head] = undefined as unknown as ReplySlot;
    this.head += 1;
    // Compact now and then so a long-lived connection does not keep a growing array of holes.
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    return slot;
  }

  /** Empties the queue, failing every command still waiting. */
  failAll(err: Error): void {
    const pending = this.slots.slice(this.head);
    this.slots = [];
    this.head = 0;
    for (const slot of pending) slot.fail?.(err);
  }
}
