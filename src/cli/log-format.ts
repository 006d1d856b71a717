/** How `mware start` writes its log: JSON lines for machines, or human-readable lines (pino-pretty). */
export type LogFormat = 'json' | 'pretty';

export interface LogFormatFlags {
  /** --log-json */
  logJson?: boolean;
  /** --log-pretty */
  logPretty?: boolean;
}

/**
 * The log format for `mware start`: a flag decides when given; otherwise a person at a terminal reads pretty
 * lines, and anything else (a pipe, a file, journald, a log shipper) gets JSON lines, which it can parse.
 */
export function logFormat(flags: LogFormatFlags, stdoutIsTTY: boolean): LogFormat {
  if (flags.logJson) return 'json';
  if (flags.logPretty) return 'pretty';
  return stdoutIsTTY ? 'pretty' : 'json';
}
