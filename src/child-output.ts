import type { Log } from './log/log.ts';

/**
 * The output of a child process the node started (a service-task script, say) re-emitted as structured log records
 * (02-runtime.md "Logging": the generic log of micro-services collected from standard output): one record per line,
 * with its source and stream. A noisy child never blocks the node: its pipes are always read to the end (nothing
 * here pauses them), and past `maxLines` per child its lines are counted, not logged, with one record at the end
 * saying how many were left out. Lines longer than {@link MAX_LINE} are cut.
 */

export const MAX_LINE = 2_048;

export type ChildStream = 'stdout' | 'stderr';

export interface ChildOutput {
  line(stream: ChildStream, text: string): void;
  /** The child has ended: reports the lines left out, if any. */
  end(): void;
}

export function childOutputLog(log: Log, source: Record<string, unknown>, maxLines = 1_000): ChildOutput {
  let logged = 0;
  let dropped = 0;
  return {
    line(stream, text) {
      if (logged >= maxLines) {
        dropped++;
        return;
      }
      logged++;
      const msg = text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}…` : text;
      if (stream === 'stderr') log.warn({ ...source, stream }, msg);
      else log.info({ ...source, stream }, msg);
    },
    end() {
      if (dropped)
        log.warn(
          { ...source, dropped },
          `${dropped} more output line(s) of this child were not logged (at most ${maxLines} per run)`,
        );
    },
  };
}
