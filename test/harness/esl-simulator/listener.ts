import type { Socket } from 'node:net';
import type { SimEvent } from './events.ts';
import { serializeJson, serializePlain } from './events.ts';
import type { EventFilter } from './filters.ts';
import { passesFilters } from './filters.ts';
import type { EslRequest } from './framing.ts';
import {
  apiResponse,
  AUTH_REQUEST,
  commandReply,
  disconnectNotice,
  eventFrame,
  GOODBYE,
  RequestParser,
} from './framing.ts';

/** What a listener needs from its host. */
export interface ListenerHost {
  readonly password: string;
  /** Runs an api command; resolves with its output (the api/response body or the BACKGROUND_JOB body). */
  runApi(command: string, arg: string): Promise<string>;
  /** Fires BACKGROUND_JOB for a finished bgapi (to every listener that wants it). */
  finishBgapi(jobUuid: string, command: string, arg: string, output: string): void;
  newUuid(): string;
  readonly eventQueueMax: number;
  readonly surrogates: boolean;
  closed(l: EslListener): void;
}

/** The FreeSWITCH event names a listener may subscribe to (switch_name_event): CUSTOM takes subclasses after it. */
type Format = 'plain' | 'json' | 'xml';

/** Bytes the socket may buffer before the listener stops flushing (the real one blocks in send()). */
const SOCKET_HIGH_WATER = 1 << 20;
/** mod_event_socket.c:36 MAX_MISSED. */
const MAX_MISSED = 500;

/**
 * One inbound ESL connection, modelled on mod_event_socket's listener_run: a greeting, one command at a time
 * (an `api` blocks the connection and no event is flushed while it runs), a bounded event queue drained to the
 * socket, and a kill with a disconnect notice after more than 500 events lost in a row.
 */
export class EslListener {
  private readonly parser = new RequestParser();
  private authed = false;
  private running = true;
  private busy = false;
  private readonly pending: EslRequest[] = [];
  private format: Format = 'plain';
  private eventsOn = false;
  private all = false;
  private readonly names = new Set<string>();
  private readonly subclasses = new Set<string>();
  private allCustom = false;
  private filters: EventFilter[] = [];
  private readonly queue: SimEvent[] = [];
  private lost = 0;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: ListenerHost,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => this.flush());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.write(AUTH_REQUEST);
  }

  /** Offers an event: queued if subscribed and passing the filters, counted lost when the queue is full. */
  offer(e: SimEvent): void {
    if (this.ended || !this.running || !this.eventsOn || !this.wants(e) || !passesFilters(this.filters, e))
      return;
    if (this.queue.length >= this.host.eventQueueMax) {
      // mod_event_socket.c:400: a failed trypush counts, a successful one resets the count.
      if (++this.lost > MAX_MISSED) this.kill('killed listener because of lost events\n');
      return;
    }
    this.lost = 0;
    this.queue.push(e);
    this.flush();
  }

  /** Closes the socket with no notice (the process died: `fsctl crash`). */
  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.socket.destroy();
    this.host.closed(this);
  }

  /** A normal end: the goodbye notice, then close (mod_event_socket.c:2816). */
  end(message = GOODBYE): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.socket.end(disconnectNotice(message));
    this.host.closed(this);
  }

  private kill(message: string): void {
    // kill_listener sends the notice straight to the socket, behind what was already written.
    this.running = false;
    this.end(message);
  }

  private wants(e: SimEvent): boolean {
    if (this.all) return true;
    if (!this.names.has(e.name)) return false;
    if (e.name !== 'CUSTOM') return true;
    const sub = e.headers.find(([k]) => k === 'Event-Subclass')?.[1];
    return this.allCustom || sub === undefined || this.subclasses.has(sub);
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.pending.push(...this.parser.push(chunk));
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.ended && this.running && this.pending.length > 0) {
        const req = this.pending.shift() as EslRequest;
        await this.handle(req);
      }
    } finally {
      this.busy = false;
    }
    if (!this.running) this.end();
    else this.flush();
  }

  private send(bytes: string): void {
    if (!this.ended) this.socket.write(bytes);
  }

  private flush(): void {
    if (this.ended || this.busy) return;
    while (this.queue.length > 0 && this.socket.writableLength < SOCKET_HIGH_WATER) {
      const e = this.queue.shift() as SimEvent;
      const fmt = this.format === 'json' ? 'json' : 'plain';
      const body = fmt === 'json' ? serializeJson(e) : serializePlain(e, this.host.surrogates);
      this.socket.write(eventFrame(fmt, body));
    }
  }

  /** parse_command (mod_event_socket.c:1715). */
  private async handle(req: EslRequest): Promise<void> {
    const cmd = req.command.replace(/\r$/, '');
    const lower = cmd.toLowerCase();
    if (lower.startsWith('exit') || lower.startsWith('...')) {
      this.send(commandReply('+OK bye'));
      this.running = false;
      return;
    }
    if (!this.authed) {
      if (lower.startsWith('auth ')) {
        if (cmd.slice(5) === this.host.password) {
          this.authed = true;
          this.send(commandReply('+OK accepted'));
        } else {
          this.send(commandReply('-ERR invalid'));
          this.running = false;
        }
        return;
      }
      this.send(commandReply('-ERR command not found'));
      return;
    }
    if (lower.startsWith('api ')) {
      const [command, arg] = splitCommand(cmd.slice(4));
      // api runs in the listener's own thread (mod_event_socket.c:2322): the connection waits for it.
      const out = await this.host.runApi(command, arg);
      this.send(apiResponse(out));
      return;
    }
    if (lower.startsWith('bgapi ')) {
      const [command, arg] = splitCommand(cmd.slice(6));
      const job = req.headers['job-uuid'] ?? this.host.newUuid();
      this.send(`Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${job}\nJob-UUID: ${job}\n\n`);
      void this.host.runApi(command, arg).then((out) => this.host.finishBgapi(job, command, arg, out));
      return;
    }
    if (lower.startsWith('filter ')) {
      this.send(commandReply(this.filter(cmd.slice(7))));
      return;
    }
    if (lower.startsWith('event ')) {
      this.send(commandReply(this.subscribe(cmd.slice(6))));
      return;
    }
    if (lower.startsWith('noevents')) {
      if (!this.eventsOn) {
        this.send(commandReply('-ERR not listening for events'));
        return;
      }
      this.eventsOn = false;
      this.all = false;
      this.allCustom = false;
      this.names.clear();
      this.subclasses.clear();
      this.queue.length = 0;
      this.send(commandReply('+OK no longer listening for events'));
      return;
    }
    this.send(commandReply('-ERR command not found'));
  }

  private filter(rest: string): string {
    let [name, value] = splitCommand(rest.trimStart());
    if (name.toLowerCase() === 'delete' && value !== '') {
      const [h, v] = splitCommand(value);
      if (h.toLowerCase() === 'all') this.filters = [];
      else this.filters = this.filters.filter((f) => !(f.header === h && (v === '' || f.value === v)));
      return `+OK filter deleted. [${h}][${v === '' ? '(null)' : v}]`;
    }
    if (value === '') return '-ERR invalid syntax';
    if (name.toLowerCase() === 'add') [name, value] = splitCommand(value);
    this.filters.push({ header: name, value });
    return `+OK filter added. [${name}]=[${value}]`;
  }

  private subscribe(rest: string): string {
    const words = rest.split(' ').filter((w) => w !== '');
    let keys = 0;
    let custom = false;
    words.forEach((w, i) => {
      if (i === 0 && ['plain', 'json', 'xml'].includes(w.toLowerCase())) {
        this.format = w.toLowerCase() as Format;
        return;
      }
      if (custom) {
        this.subclasses.add(w);
        return;
      }
      const name = w.toUpperCase();
      if (!/^[A-Z_]+$/.test(name)) return;
      keys++;
      if (name === 'ALL') {
        this.all = true;
        this.allCustom = true;
      }
      this.names.add(name);
      if (name === 'CUSTOM') custom = true;
    });
    if (keys === 0) return '-ERR no keywords supplied';
    this.eventsOn = true;
    return `+OK event listener enabled ${this.format}`;
  }
}

function splitCommand(s: string): [string, string] {
  const i = s.indexOf(' ');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}
