import { publicMessages } from '../actor-system/kind.ts';
import { serializeError } from '../errors.ts';
import type { ChildRecord } from '../supervision/child.ts';
import type { Clock } from '../supervision/clock.ts';
import type { Directory } from '../supervision/directory.ts';
import type { Deviation } from './deviation.ts';
import { DeviationList } from './schemas.ts';

/**
 * The deviations one node finds in itself (06-services.md "System state"), without asking any other node:
 *  - its supervision tree: a child `failed` (given up by its supervisor), restarting or restarted lately, or an
 *    actor reporting its work failing (`Behavior.problem`: a backup run that failed, say);
 *  - its CPU load (the 5-minute load average per core);
 *  - its coordination backend's health;
 *  - what its services say: every actor under `/services` (any depth), and every actor whose kind declares
 *    `deviations` among its public messages wherever it lives, is asked `deviations` and answers `Deviation[]`;
 *    one that has no such handler is skipped, one that does not answer in time is itself a deviation.
 * Messages stay the same while a deviation holds (numbers go to `details`): the message is part of its key, and a
 * changed key would read as one deviation cleared and another raised.
 */

export interface LocalSources {
  node: string;
  site: string;
  directory: Directory;
  clock: Clock;
  coordination: () => { kind: string; healthy: boolean };
  /** `os.loadavg()` and the number of cores, injected for tests. */
  loadavg: () => readonly number[];
  cores: () => number;
  /** Removes secret values from text leaving the node (an actor's error message). */
  scrub: (text: string) => string;
  thresholds?: Partial<Thresholds>;
}

export interface Thresholds {
  /** 5-minute load average per core at which CPU load is a warning, and critical. */
  cpuWarning: number;
  cpuCritical: number;
  /** A restart this recent (ms) is a deviation. */
  restartWindowMs: number;
  /** How long a service is given to answer `deviations`. */
  serviceTimeoutMs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  cpuWarning: 1,
  cpuCritical: 2,
  restartWindowMs: 15 * 60_000,
  serviceTimeoutMs: 2_000,
};

/** Every deviation this node finds in itself now, with `node` and `site` filled in. */
export async function localDeviations(s: LocalSources): Promise<Deviation[]> {
  const t = { ...DEFAULT_THRESHOLDS, ...s.thresholds };
  const now = new Date(s.clock.wallNow()).toISOString();
  const records = [...s.directory.all()];
  const found: Deviation[] = [
    ...records.flatMap((r) => actorDeviations(r, s, t, now)),
    ...cpuDeviations(s, t, now),
    ...coordinationDeviations(s, now),
    ...(await serviceDeviations(records, s, t, now)),
  ];
  return found.map((d) => ({ ...d, node: s.node, site: s.site }));
}

function actorDeviations(r: ChildRecord, s: LocalSources, t: Thresholds, now: string): Deviation[] {
  const kind = r.spec.kind;
  const error = r.lastError ? { error: s.scrub(r.lastError.message), code: r.lastError.code } : {};
  if (r.state === 'failed')
    return [
      {
        source: r.path,
        kind: 'actor-failed',
        severity: 'critical',
        since: now,
        message: `${r.path} (${kind}) has failed and is not restarted`,
        details: { actor_kind: kind, ...error },
      },
    ];
  const out: Deviation[] = [];
  const recent = r.restartTimes.filter((at) => s.clock.wallNow() - at < t.restartWindowMs);
  if (r.state === 'restarting' || recent.length > 0)
    out.push({
      source: r.path,
      kind: 'actor-restarting',
      severity: 'warning',
      since: recent[0] !== undefined ? new Date(recent[0]).toISOString() : now,
      message: `${r.path} (${kind}) is restarting or restarted in the last ${Math.round(t.restartWindowMs / 60_000)} min`,
      details: { actor_kind: kind, restarts_recent: recent.length, restarts: r.restarts, ...error },
    });
  const problem = r.state === 'running' ? r.incarnation?.problem?.() : undefined;
  if (problem)
    out.push({
      source: r.path,
      kind: 'actor-problem',
      severity: 'warning',
      since: now,
      message: `${r.path} (${kind}) reports ${problem.code}`,
      details: { actor_kind: kind, error: s.scrub(problem.message) },
    });
  return out;
}

function cpuDeviations(s: LocalSources, t: Thresholds, now: string): Deviation[] {
  const load5 = s.loadavg()[1] ?? 0;
  const cores = Math.max(1, s.cores());
  const perCore = load5 / cores;
  if (perCore < t.cpuWarning) return [];
  const critical = perCore >= t.cpuCritical;
  return [
    {
      source: 'cpu',
      kind: 'cpu-load',
      severity: critical ? 'critical' : 'warning',
      since: now,
      message: `CPU load of ${s.node} is above ${t.cpuWarning} per core`,
      details: { load5, cores, per_core: Math.round(perCore * 100) / 100 },
    },
  ];
}

function coordinationDeviations(s: LocalSources, now: string): Deviation[] {
  const c = s.coordination();
  if (c.healthy) return [];
  return [
    {
      source: 'coordination',
      kind: 'coordination-unhealthy',
      severity: 'critical',
      since: now,
      message: `coordination (${c.kind}) of ${s.node} is unhealthy`,
    },
  ];
}

/** Whether `r` is a service that may report deviations (see the module's comment). */
function asksDeviations(r: ChildRecord): boolean {
  if (r.spec.mode === 'supervisor' || r.state !== 'running') return false;
  return r.path.startsWith('/services/') || publicMessages(r.spec.kind).has('deviations');
}

async function serviceDeviations(
  records: readonly ChildRecord[],
  s: LocalSources,
  t: Thresholds,
  now: string,
): Promise<Deviation[]> {
  const answers = await Promise.all(
    records.filter(asksDeviations).map(async (r): Promise<Deviation[]> => {
      let answer: unknown;
      try {
        answer = await r.ask('deviations', null, t.serviceTimeoutMs);
      } catch (err) {
        const e = serializeError(err);
        if (e.code === 'MW_ERR_UNKNOWN_MESSAGE') return [];
        return [silent(r.path, now, 'did not answer', { code: e.code, error: s.scrub(e.message) })];
      }
      const parsed = DeviationList.safeParse(answer);
      if (!parsed.success)
        return [silent(r.path, now, 'answered something that is not a deviation list', {})];
      return parsed.data;
    }),
  );
  return answers.flat();
}

function silent(path: string, now: string, why: string, details: Record<string, unknown>): Deviation {
  return {
    source: path,
    kind: 'service-silent',
    severity: 'warning',
    since: now,
    message: `${path} ${why} when asked for its deviations`,
    details,
  };
}
