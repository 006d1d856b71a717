import type { DestinationStream, Logger, StreamEntry } from 'pino';
import { pino } from 'pino';
import { createRequire } from 'node:module';
import { REDACTED, scrubber, SECRET_KEYS } from '../redaction.ts';
import type { LogFeed } from './feed.ts';

/**
 * The one logger: pino, JSON lines to stdout (or pretty for humans). Every line carries `node` and `group`, and
 * `path` when it comes from an actor. Secrets never reach a line: known secret fields are redacted by path, and
 * every secret value resolved from the topology is scrubbed from the final text as a last line of defence.
 */

export type Log = Logger;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const k of SECRET_KEYS) paths.push(k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`);
  return paths;
}

export interface LogOptions {
  node?: string;
  group?: number;
  level?: string;
  pretty?: boolean;
  /** Secret values to scrub from every line (the topology's resolved `${env:…}`/`${file:…}` values). */
  secrets?: Iterable<string>;
  /** Where lines go; stdout when absent. */
  destination?: DestinationStream;
  /** Also keep recent lines here (for `logs` in the shell). */
  feed?: LogFeed;
}

export function createLogger(opts: LogOptions = {}): Log {
  const scrub = scrubber(opts.secrets ?? []);
  const base: Record<string, unknown> = { pid: process.pid };
  if (opts.node !== undefined) base.node = opts.node;
  if (opts.group !== undefined) base.group = opts.group;
  const options = {
    level: opts.level ?? process.env.MWARE_LOG_LEVEL ?? 'info',
    base,
    redact: { paths: redactPaths(), censor: REDACTED },
    hooks: { streamWrite: scrub },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const main: DestinationStream =
    opts.destination ?? (opts.pretty ? prettyStream() : pino.destination({ dest: 1, sync: true }));
  if (!opts.feed) return pino(options, main);
  const streams: StreamEntry[] = [
    { stream: main, level: 'trace' },
    { stream: opts.feed, level: 'trace' },
  ];
  return pino(options, pino.multistream(streams));
}

/** pino-pretty, loaded only when asked for (--log-pretty). */
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => DestinationStream;
  return pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', sync: true });
}

/** A logger that discards everything (tests, benchmarks). */
export function silentLogger(): Log {
  return pino({ level: 'silent' });
}
