import { stat } from 'node:fs/promises';
import { serializeError } from '../../src/errors.ts';
import type { Clock } from '../../src/supervision/clock.ts';
import type { FsyncMonitor, FsyncStatus } from '../../topology/schema.ts';
import type { Check } from './check.ts';
import type { Observation } from './conditions.ts';
import { ProbeMismatch } from './errors.ts';
import { probeRunner } from './probe.ts';

/**
 * FSYNC file synchronisation: each source says when it last synchronised — an HTTP JSON status (`json_path` to an
 * ISO 8601 time, or seconds or milliseconds since 1970) or the mtime of a file the sync touches — and lags when
 * that is longer ago than `max_lag_ms` (`fsync-lag`). A source that cannot be read is `fsync-unknown`: its lag
 * cannot be told, which an operator must hear of as well.
 */
export function fsyncCheck(config: FsyncMonitor, clock: Clock): Check {
  const sources = config.sources.map((s) => ({ ...s, read: lastSyncReader(s.status) }));
  const lags = new Map<string, number | null>();
  return {
    round: async () =>
      (
        await Promise.all(
          sources.map(async (s): Promise<Observation[]> => {
            let last: number | undefined;
            let error: string | undefined;
            try {
              last = await s.read();
            } catch (err) {
              error = serializeError(err).message;
            }
            const lag = last === undefined ? null : Math.max(0, clock.wallNow() - last);
            lags.set(s.name, lag);
            return [
              {
                key: `fsync-unknown:${s.name}`,
                failing: lag === null,
                kind: 'fsync-unknown',
                severity: 'warning',
                message: `FSYNC ${s.name}: last sync time unreadable: ${error ?? ''}`,
                details: { source: s.name },
              },
              {
                key: `fsync-lag:${s.name}`,
                failing: lag !== null && lag > s.max_lag_ms,
                kind: 'fsync-lag',
                severity: 'warning',
                message: `FSYNC ${s.name} lags ${Math.round((lag ?? 0) / 1000)} s (at most ${Math.round(s.max_lag_ms / 1000)} s)`,
                details: { source: s.name, lag_ms: lag, max_lag_ms: s.max_lag_ms },
              },
            ];
          }),
        )
      ).flat(),
    detail: () => ({ lag_ms: Object.fromEntries(lags) }),
  };
}

/** Reads a source's last sync time, wall-clock milliseconds; throws when it cannot. */
function lastSyncReader(status: FsyncStatus): () => Promise<number> {
  if (status.type === 'file-mtime') return async () => (await stat(status.path)).mtimeMs;
  const probe = probeRunner(status);
  return async () => {
    const r = await probe.run();
    if (!r.ok) throw new ProbeMismatch(r.error);
    return timeOf(r.value, probe.target);
  };
}

/** A time as a status page gives it: ISO 8601 text, or a number of seconds (below 10^11) or milliseconds. */
export function timeOf(v: unknown, target: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (Number.isFinite(n)) return n < 1e11 ? n * 1000 : n;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new ProbeMismatch(`${target}: ${JSON.stringify(v)} is not a time`);
  return t;
}
