import net from 'node:net';
import type { Socket } from 'node:net';
import type { Log } from '../../log/log.ts';
import {
  EslAuthFailed,
  EslCommandFailed,
  EslConnectionLost,
  EslInvalidCommand,
  EslProtocolError,
  EslTimeout,
  EslUnreachable,
} from './errors.ts';
import type { EslEvent } from './event.ts';
import type { Frame } from './modesl.ts';
import { FrameDecoder } from './modesl.ts';
import type { CommandLabel, ReplyFrame, ReplySlot } from './replies.ts';
import { ReplyQueue } from './replies.ts';

/**
 * An inbound ESL connection to one FreeSWITCH: auth, `api`, `bgapi` matched by Job-UUID, event subscription and
 * filters, with a deadline on everything and every failure reported as one of the errors of `errors.ts` or as a
 * close reason — never thrown into the socket's handlers, never an unhandled rejection.
 *
 * Timeout semantics: a command past its deadline is rejected with EslTimeout but keeps its place in the reply
 * queue; its reply, when it comes, is swallowed, so it can never be taken for the reply of a later command. The
 * connection stays open (FreeSWITCH runs `api` inside the connection's thread, so a slow command only delays the
 * ones behind it, which then time out too); a caller that would rather start afresh calls `close()`.
 */

export interface EslOptions {
  host: string;
  port: number;
  password: string;
  /** TCP, greeting and auth together; default 3 000. */
  connectTimeoutMs?: number;
  /** Per api/bgapi/event/filter unless given per call; default 5 000. For bgapi it covers the job's result too. */
  commandTimeoutMs?: number;
  /** A frame (headers or body) above this is a protocol error and closes the socket; default 16 MiB. */
  maxFrameBytes?: number;
  /** Where the client notes what it absorbs (a listener that threw, a late reply swallowed); silent if absent. */
  log?: Pick<Log, 'warn' | 'debug'>;
}

export type EslCloseReason =
  | { kind: 'closed' }
  | { kind: 'disconnect-notice'; text: string }
  | { kind: 'rude-rejection'; text: string }
  | { kind: 'protocol'; error: Error }
  | { kind: 'error'; error: Error };

/** Where the connection is: TCP under way, waiting for `auth/request`, `auth` sent, usable, over. */
export type EslState = 'connecting' | 'greeting' | 'authenticating' | 'ready' | 'closed';

/** Per-command options. */
export interface EslCommandOptions {
  timeoutMs?: number;
}

const DEFAULTS = { connectTimeoutMs: 3_000, commandTimeoutMs: 5_000, maxFrameBytes: 16 * 1024 * 1024 };

/** Node's codes for "nothing answers TCP there". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
]);

interface Job {
  done(body: string): void;
  fail(err: Error): void;
}

export class EslClient {
  private state: EslState = 'connecting';
  private closeReason: EslCloseReason | undefined;
  private socketError: Error | undefined;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly replies = new ReplyQueue();
  private readonly jobs = new Map<string, Job>();
  private readonly eventListeners = new Set<(e: EslEvent) => void>();
  private readonly closeListeners = new Set<(r: EslCloseReason) => void>();
  /** `event json BACKGROUND_JOB` / `filter Event-Name BACKGROUND_JOB` sent (bgapi needs both to see its result). */
  private jobEventsAsked = false;
  private jobFilterAsked = false;
  private connecting: { resolve(c: EslClient): void; reject(e: Error): void } | undefined;
  private readonly connectTimer: NodeJS.Timeout;
  private readonly endpoint: string;
  private readonly where: { host: string; port: number };
  private readonly commandTimeoutMs: number;

  /**
   * Connects and authenticates. Resolves after `+OK accepted`; nothing is written before FreeSWITCH's
   * `auth/request` (a command sent earlier is answered `-ERR command not found` and shifts every later reply).
   * Rejects with EslUnreachable, EslTimeout (`details.phase`), EslAuthFailed, EslConnectionLost or
   * EslProtocolError.
   */
  static connect(opts: EslOptions): Promise<EslClient> {
    return new Promise((resolve, reject) => {
      new EslClient(opts, { resolve, reject });
    });
  }

  private constructor(
    private readonly o: EslOptions,
    connecting: { resolve(c: EslClient): void; reject(e: Error): void },
  ) {
    this.connecting = connecting;
    this.endpoint = `${o.host}:${o.port}`;
    this.where = { host: o.host, port: o.port };
    this.commandTimeoutMs = o.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
    const connectTimeoutMs = o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.decoder = new FrameDecoder({
      maxFrameBytes: o.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
      onFrame: (f) => this.onFrame(f),
      onUndecodable: (name) => o.log?.debug({ ...this.where, header: name }, 'ESL header kept URL-encoded'),
    });
    this.connectTimer = setTimeout(() => {
      const phase = this.state;
      this.rejectConnect(
        new EslTimeout(`ESL ${this.endpoint}: not connected within ${connectTimeoutMs} ms (${phase})`, {
          details: { ...this.where, command: 'connect', phase, timeoutMs: connectTimeoutMs },
        }),
      );
      this.finish({ kind: 'closed' });
    }, connectTimeoutMs);
    this.socket = net.connect({ host: o.host, port: o.port });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      if (this.state === 'connecting') this.state = 'greeting';
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => {
      this.socketError ??= err;
    });
    this.socket.on('close', () => {
      const err = this.socketError;
      this.finish(err ? { kind: 'error', error: err } : { kind: 'closed' });
    });
  }

  /** Where the connection is. */
  get status(): EslState {
    return this.state;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /**
   * `api <command>`: the body of its `api/response`. A `-ERR …` body is returned, not thrown (the caller reads
   * it). Rejects with EslTimeout, EslConnectionLost or EslInvalidCommand.
   */
  api(command: string, opts: EslCommandOptions = {}): Promise<string> {
    return this.request(
      { kind: 'api', command: firstWord(command) },
      `api ${command}`,
      command,
      opts,
      (reply) =>
        // FreeSWITCH answers api with api/response; a command/reply here is still this command's answer.
        reply.type === 'api/response' ? reply.body : reply.reply,
    );
  }

  /**
   * `bgapi <command>`: the body of the BACKGROUND_JOB event carrying the Job-UUID of its reply (FreeSWITCH
   * broadcasts those events to every subscribed listener; only ours is taken). The deadline covers the reply and
   * the job. Subscribes to BACKGROUND_JOB first if nothing has yet. Rejects with EslCommandFailed on a `-ERR`
   * reply, EslTimeout, EslConnectionLost or EslInvalidCommand.
   */
  bgapi(command: string, opts: EslCommandOptions = {}): Promise<string> {
    const label: CommandLabel = { kind: 'bgapi', command: firstWord(command) };
    const invalid = this.refuse(command);
    if (invalid) return Promise.reject(invalid);
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      let jobUuid: string | undefined;
      const slot: ReplySlot = { ...label, deliver: undefined, fail: undefined };
      const timer = setTimeout(() => {
        slot.deliver = slot.fail = undefined;
        if (jobUuid !== undefined) this.jobs.delete(jobUuid);
        reject(this.timeout(label, timeoutMs, jobUuid === undefined ? 'reply' : 'job'));
      }, timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        if (jobUuid !== undefined) this.jobs.delete(jobUuid);
        reject(err);
      };
      slot.fail = fail;
      slot.deliver = (reply) => {
        const outOfStep = (): never => {
          // Not the answer a bgapi gets: the replies are out of step; the throw closes the connection.
          const err = this.unexpected(reply, label);
          fail(err);
          throw err;
        };
        if (reply.type !== 'command/reply') return outOfStep();
        if (!reply.reply.startsWith('+OK')) return fail(this.commandFailed(label, reply.reply));
        const id = reply.headers['Job-UUID'] ?? /Job-UUID: *(\S+)/.exec(reply.reply)?.[1];
        if (id === undefined) return outOfStep();
        jobUuid = id;
        this.jobs.set(id, {
          done: (body) => {
            clearTimeout(timer);
            this.jobs.delete(id);
            resolve(body);
          },
          fail,
        });
      };
      if (!this.jobEventsAsked) {
        this.jobEventsAsked = true;
        this.internal('event json BACKGROUND_JOB', 'event', () => (this.jobEventsAsked = false));
      }
      this.write(slot, `bgapi ${command}`);
    });
  }

  /**
   * `event json BACKGROUND_JOB <events…>` (ALL alone stays ALL). FreeSWITCH adds to the subscription; it never
   * narrows it. BACKGROUND_JOB goes first: every word after `CUSTOM` is taken as a subclass (mod_event_socket.c),
   * so `… CUSTOM conference::maintenance BACKGROUND_JOB` would never deliver a job's result. Rejects with EslCommandFailed on `-ERR`, EslTimeout, EslConnectionLost or EslInvalidCommand.
   */
  async subscribe(events: readonly string[], opts: EslCommandOptions = {}): Promise<void> {
    const names = new Set(events.map((e) => e.trim()));
    const all = [...names].some((n) => n.toUpperCase() === 'ALL');
    const list = all ? 'ALL' : ['BACKGROUND_JOB', ...names].filter((n, i, a) => a.indexOf(n) === i).join(' ');
    const bad = events.find((e) => e.trim() === '' || /\s/.test(e.trim()));
    if (bad !== undefined) {
      throw new EslInvalidCommand(
        `ESL ${this.endpoint}: event name ${JSON.stringify(bad.slice(0, 40))} is not one`,
      );
    }
    this.jobEventsAsked = true;
    await this.request({ kind: 'event', command: 'event' }, `event json ${list}`, list, opts, (r) =>
      this.okOrThrow({ kind: 'event', command: 'event' }, r),
    );
  }

  /**
   * `filter <header> <value>`. Once any filter exists FreeSWITCH passes only positive matches, BACKGROUND_JOB
   * included, so the first filter is preceded by `filter Event-Name BACKGROUND_JOB` (or bgapi would never see its
   * result). Rejects with EslCommandFailed on `-ERR`, EslTimeout, EslConnectionLost or EslInvalidCommand.
   */
  async filter(header: string, value: string, opts: EslCommandOptions = {}): Promise<void> {
    if (header === '' || /\s/.test(header)) {
      throw new EslInvalidCommand(
        `ESL ${this.endpoint}: filter header ${JSON.stringify(header.slice(0, 40))}`,
      );
    }
    const invalid = this.refuse(value);
    if (invalid) throw invalid;
    const label: CommandLabel = { kind: 'filter', command: 'filter' };
    if (!this.jobFilterAsked && !(header === 'Event-Name' && value === 'BACKGROUND_JOB')) {
      this.internal('filter Event-Name BACKGROUND_JOB', 'filter', () => (this.jobFilterAsked = false));
    }
    this.jobFilterAsked = true;
    await this.request(label, `filter ${header} ${value}`, value, opts, (r) => this.okOrThrow(label, r));
  }

  /** Every event, in arrival order (BACKGROUND_JOB included). A listener that throws is logged and skipped. */
  onEvent(listener: (e: EslEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called once, when the connection ends (at once, asynchronously, if it already has). */
  onClose(listener: (r: EslCloseReason) => void): () => void {
    const reason = this.closeReason;
    if (reason) {
      queueMicrotask(() => this.safeCall(listener, reason, 'close'));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Why the connection ended, once it has. */
  get reason(): EslCloseReason | undefined {
    return this.closeReason;
  }

  /** Closes the socket; pending commands fail with EslConnectionLost, close listeners get `{ kind: 'closed' }`. */
  close(): void {
    this.finish({ kind: 'closed' });
  }

  // ——— sending ———

  private request<T>(
    label: CommandLabel,
    line: string,
    checked: string,
    opts: EslCommandOptions,
    accept: (reply: ReplyFrame) => T,
  ): Promise<T> {
    const invalid = this.refuse(checked);
    if (invalid) return Promise.reject(invalid);
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      const slot: ReplySlot = { ...label, deliver: undefined, fail: undefined };
      const timer = setTimeout(() => {
        slot.deliver = slot.fail = undefined;
        reject(this.timeout(label, timeoutMs, 'reply'));
      }, timeoutMs);
      slot.fail = (err) => {
        clearTimeout(timer);
        reject(err);
      };
      slot.deliver = (reply) => {
        clearTimeout(timer);
        let value: T;
        try {
          value = accept(reply);
        } catch (err) {
          // A protocol error closes the connection (the frame loop catches it); this command fails with it.
          reject(err);
          if (err instanceof EslProtocolError) throw err;
          return;
        }
        resolve(value);
      };
      this.write(slot, line);
    });
  }

  /** A command of the client's own, whose failure is only logged (its caller's command follows it). */
  private internal(line: string, kind: 'event' | 'filter', onFailure: () => void): void {
    const label: CommandLabel = { kind, command: kind };
    const slot: ReplySlot = {
      ...label,
      deliver: (reply) => {
        if (reply.type === 'command/reply' && reply.reply.startsWith('+OK')) return;
        onFailure();
        this.o.log?.warn(
          { ...this.where, command: kind, reply: replyText(reply) },
          'ESL internal command refused',
        );
      },
      fail: () => onFailure(),
    };
    this.write(slot, line);
  }

  private write(slot: ReplySlot, line: string): void {
    if (this.state !== 'ready') {
      slot.fail?.(this.lost());
      return;
    }
    this.replies.push(slot);
    this.socket.write(`${line}\n\n`);
  }

  /** Why `text` cannot be sent as (part of) one command line, or undefined. */
  private refuse(text: string): Error | undefined {
    if (text.trim() === '') return new EslInvalidCommand(`ESL ${this.endpoint}: empty command`);
    if (/[\r\n]/.test(text)) {
      return new EslInvalidCommand(
        `ESL ${this.endpoint}: ${firstWord(text)}: a command cannot hold a line break`,
        {
          details: { ...this.where, command: firstWord(text) },
        },
      );
    }
    return undefined;
  }

  // ——— receiving ———

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      const error =
        err instanceof EslProtocolError
          ? new EslProtocolError(`ESL ${this.endpoint}: ${err.message}`, {
              cause: err,
              details: { ...this.where, ...err.details },
            })
          : new EslProtocolError(`ESL ${this.endpoint}: protocol error`, { cause: err, details: this.where });
      this.finish({ kind: 'protocol', error });
    }
  }

  /** One frame, inside the decoder's loop: throwing an EslProtocolError here closes the connection. */
  private onFrame(f: Frame): void {
    if (this.state === 'closed') return;
    switch (f.type) {
      case 'auth/request':
        if (this.state !== 'greeting') throw new EslProtocolError('auth/request after the greeting');
        this.state = 'authenticating';
        this.socket.write(`auth ${this.o.password}\n\n`);
        return;
      case 'command/reply':
      case 'api/response':
        if (this.state === 'authenticating') return this.onAuthReply(f);
        if (this.state !== 'ready') throw new EslProtocolError(`${f.type} before auth/request`);
        return this.onReply(f);
      case 'event':
        if (this.state === 'ready') this.onEventFrame(f.event);
        return;
      case 'disconnect-notice':
        return this.finish({ kind: 'disconnect-notice', text: f.text });
      case 'rude-rejection':
        return this.finish({ kind: 'rude-rejection', text: f.text });
      case 'log':
        return;
      default: {
        const never: never = f;
        throw new EslProtocolError(`unhandled frame ${String(never)}`);
      }
    }
  }

  private onAuthReply(reply: ReplyFrame): void {
    const text = replyText(reply);
    if (reply.type === 'command/reply' && text.startsWith('+OK')) {
      this.state = 'ready';
      clearTimeout(this.connectTimer);
      const c = this.connecting;
      this.connecting = undefined;
      c?.resolve(this);
      return;
    }
    // FreeSWITCH's words only (`-ERR invalid`): the password is never echoed back, and never put here.
    this.rejectConnect(
      new EslAuthFailed(`ESL ${this.endpoint}: authentication refused: ${text.slice(0, 80)}`, {
        details: { ...this.where, reply: text.slice(0, 80) },
      }),
    );
    this.finish({ kind: 'closed' });
  }

  private onReply(reply: ReplyFrame): void {
    const slot = this.replies.shift();
    if (!slot) throw new EslProtocolError(`${reply.type} with no command waiting for it`);
    if (!slot.deliver) {
      this.o.log?.debug(
        { ...this.where, command: slot.command, kind: slot.kind },
        'ESL late reply swallowed',
      );
      return;
    }
    slot.deliver(reply);
  }

  private onEventFrame(event: EslEvent): void {
    if (event.name === 'BACKGROUND_JOB') {
      const id = event.headers['Job-UUID'];
      if (id !== undefined) this.jobs.get(id)?.done(event.body ?? '');
    }
    for (const listener of [...this.eventListeners]) this.safeCall(listener, event, 'event');
  }

  // ——— ending ———

  private finish(reason: EslCloseReason): void {
    if (this.state === 'closed') return;
    const phase = this.state;
    this.state = 'closed';
    this.closeReason = reason;
    clearTimeout(this.connectTimer);
    this.socket.destroy();
    if (this.connecting) this.rejectConnect(this.connectError(reason, phase));
    const lost = this.lost();
    this.replies.failAll(lost);
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) job.fail(lost);
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    this.eventListeners.clear();
    for (const listener of listeners) this.safeCall(listener, reason, 'close');
  }

  private rejectConnect(err: Error): void {
    const c = this.connecting;
    this.connecting = undefined;
    c?.reject(err);
  }

  private connectError(reason: EslCloseReason, phase: EslState): Error {
    const details = { ...this.where, phase };
    switch (reason.kind) {
      case 'rude-rejection':
        return new EslAuthFailed(`ESL ${this.endpoint}: rejected by its ACL: ${reason.text.slice(0, 80)}`, {
          details: { ...details, reason: 'rude-rejection' },
        });
      case 'protocol':
        return reason.error;
      case 'error': {
        const code = (reason.error as NodeJS.ErrnoException).code;
        if (phase === 'connecting' && (code === undefined || UNREACHABLE.has(code))) {
          return new EslUnreachable(`ESL ${this.endpoint}: unreachable (${code ?? reason.error.message})`, {
            cause: reason.error,
            details: { ...details, errno: code },
          });
        }
        return new EslConnectionLost(`ESL ${this.endpoint}: connection lost while connecting (${phase})`, {
          cause: reason.error,
          details,
        });
      }
      case 'closed':
      case 'disconnect-notice':
        return new EslConnectionLost(`ESL ${this.endpoint}: closed while connecting (${phase})`, { details });
      default: {
        const never: never = reason;
        return new EslConnectionLost(`ESL ${this.endpoint}: ${String(never)}`);
      }
    }
  }

  /** The error pending commands fail with. */
  private lost(): EslConnectionLost {
    const r = this.closeReason;
    const why =
      r === undefined
        ? 'not connected'
        : r.kind === 'disconnect-notice' || r.kind === 'rude-rejection'
          ? `${r.kind}: ${r.text.slice(0, 80)}`
          : r.kind === 'closed'
            ? 'closed'
            : `${r.kind}: ${r.error.message}`;
    return new EslConnectionLost(`ESL ${this.endpoint}: connection lost (${why})`, {
      cause: r && (r.kind === 'protocol' || r.kind === 'error') ? r.error : undefined,
      details: { ...this.where, reason: r?.kind },
    });
  }

  private timeout(label: CommandLabel, timeoutMs: number, waitingFor: 'reply' | 'job'): EslTimeout {
    return new EslTimeout(
      `ESL ${this.endpoint}: ${label.kind} ${label.command}: no ${waitingFor} within ${timeoutMs} ms`,
      { details: { ...this.where, ...label, waitingFor, timeoutMs } },
    );
  }

  private commandFailed(label: CommandLabel, reply: string): EslCommandFailed {
    return new EslCommandFailed(
      `ESL ${this.endpoint}: ${label.kind} ${label.command}: ${reply.slice(0, 120)}`,
      {
        details: { ...this.where, ...label, reply: reply.slice(0, 200) },
      },
    );
  }

  private okOrThrow(label: CommandLabel, reply: ReplyFrame): void {
    if (reply.type !== 'command/reply') throw this.unexpected(reply, label);
    if (!reply.reply.startsWith('+OK')) throw this.commandFailed(label, reply.reply);
  }

  private unexpected(reply: ReplyFrame, label: CommandLabel): EslProtocolError {
    return new EslProtocolError(`${reply.type} in answer to ${label.kind}`, { details: { ...label } });
  }

  private safeCall<A>(listener: (a: A) => void, arg: A, what: 'event' | 'close'): void {
    try {
      listener(arg);
    } catch (err) {
      this.o.log?.warn({ ...this.where, err }, `ESL ${what} listener threw`);
    }
  }
}

function firstWord(command: string): string {
  return command.trim().split(/\s+/, 1)[0]?.slice(0, 64) ?? '';
}

function replyText(reply: ReplyFrame): string {
  return reply.type === 'api/response' ? reply.body.trim() : reply.reply;
}
