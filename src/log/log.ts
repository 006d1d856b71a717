import type { DestinationStream, Logger, StreamEntry } from 'pino';
import { pino } from 'pino';
import { createRequire } from 'node:module';
import type { LogFeed } from './feed.ts';

/**
 * The one logger: pino, JSON lines to stdout (or pretty for humans). Every line carries `node` and `group`, and
 * `path` when it comes from an actor. Secrets never reach a line: known secret fields are redacted by path, and
 * every secret value resolved from the topology is scrubbed from the final text as a last line of defence.
 */

export type Log = Logger;

/** Field names that hold secrets anywhere in a logged object (or in a topology file). */
export const SECRET_KEYS: readonly string[] = [
  'password',
  'pwd',
  'token',
  'secret',
  'cluster_secret',
  'ssh_pwd',
  'ssh_key',
  'pg_pwd',
  'pg_replica_pwd',
  'storage_ssh_pwd',
  'storage_ssh_key',
  'esl_password',
  'authorization',
  'cookie',
  'privateKey',
  'private_key',
];

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

export const REDACTED = '[REDACTED]';

/**
 * Replaces every occurrence of any secret value (longest first, so a secret containing another is whole), raw or
 * JSON-escaped (as it appears inside a JSON line or response).
 */
export function secretScrubber(secrets: Iterable<string>): (s: string) => string {
  const list = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const forms = [...new Set(list.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
  return (text: string) => {
    let out = text;
    for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  };
}

/** For log lines: every secret value, and any bearer token, known or not. */
export function scrubber(secrets: Iterable<string>): (s: string) => string {
  const values = secretScrubber(secrets);
  const bearer = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
  return (line: string) => values(line.replace(bearer, `$1${REDACTED}`));
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
