/**
 * The migration planner (05-freeswitch.md "Migration recipe", step 1), pure: which surviving host recovers which
 * call. A call is the set of legs that must land together — both legs of a bridge, every member of one conference
 * (FreeSWITCH re-bridges only partners it recovered itself, and a conference's members re-join it by name on the
 * host that recovers them). Targets are live, unpaused hosts running every profile the call's legs use; calls go
 * to the least loaded one (its sessions plus what this plan already gave it, relative to its capacity), biggest
 * calls first so the spread stays even.
 */

/** One row of the source's `recovery` rows, with what the planner reads from its metadata. */
export interface PlanLeg {
  uuid: string;
  profile: string;
  partner: string | null;
  conference: string | null;
}

export interface PlanTarget {
  name: string;
  profiles: readonly string[];
  /** Sessions it carries now. */
  sessions: number;
  maxSessions: number;
  live: boolean;
  paused: boolean;
}

export interface PlannedCall {
  /** The call's id: its first leg's uuid (legs sorted, so a re-plan of the same rows gives the same id). */
  id: string;
  legs: string[];
  profiles: string[];
  conference: string | null;
  /** The chosen host, or null with `reason` when none fits. */
  target: string | null;
  reason: string | null;
}

export interface PlanOptions {
  /** Hosts the operator allowed (`migrate HOST TO…`, `failover.targets`); all when absent. */
  allowed?: readonly string[];
  /** Never a target (the source itself). */
  exclude: readonly string[];
}

/** Groups the legs into calls and gives each a target. */
export function planMigration(
  legs: readonly PlanLeg[],
  targets: readonly PlanTarget[],
  o: PlanOptions,
): PlannedCall[] {
  const calls = groupCalls(legs);
  const load = new Map(targets.map((t) => [t.name, t.sessions]));
  const candidates = targets.filter(
    (t) => !o.exclude.includes(t.name) && (!o.allowed || o.allowed.includes(t.name)),
  );
  // Biggest first: a 20-member conference placed last could find every host already evened out and overload one.
  const order = [...calls].sort((a, b) => b.legs.length - a.legs.length || (a.id < b.id ? -1 : 1));
  for (const call of order) {
    const fit = candidates.filter(
      (t) => t.live && !t.paused && call.profiles.every((p) => t.profiles.includes(p)),
    );
    if (fit.length === 0) {
      call.reason = noTargetReason(call, candidates);
      continue;
    }
    let best = fit[0]!;
    for (const t of fit.slice(1)) if (share(t, load) < share(best, load)) best = t;
    call.target = best.name;
    load.set(best.name, (load.get(best.name) ?? 0) + call.legs.length);
  }
  return calls;
}

function share(t: PlanTarget, load: ReadonlyMap<string, number>): number {
  return (load.get(t.name) ?? 0) / Math.max(1, t.maxSessions);
}

function noTargetReason(call: PlannedCall, candidates: readonly PlanTarget[]): string {
  if (candidates.length === 0)
    return 'no host may receive calls (the allowed targets exclude every other host)';
  const usable = candidates.filter((t) => t.live && !t.paused);
  if (usable.length === 0) {
    const words = candidates.map((t) => `${t.name} ${t.live ? 'paused' : 'down'}`).join(', ');
    return `no live, unpaused host to recover on (${words})`;
  }
  const missing = call.profiles.filter((p) => !usable.some((t) => t.profiles.includes(p)));
  if (missing.length > 0)
    return `no live, unpaused host runs profile ${missing.map((p) => `"${p}"`).join(', ')}`;
  return `no live, unpaused host runs every profile the call uses (${call.profiles.join(', ')})`;
}

/** Union of legs linked by a bridge (either side naming the other) or by one conference name. */
export function groupCalls(legs: readonly PlanLeg[]): PlannedCall[] {
  const parent = new Map<string, string>();
  const find = (u: string): string => {
    let r = u;
    while (parent.get(r) !== r) r = parent.get(r)!;
    // Path halving is unnecessary at these sizes; a second walk flattens it.
    let c = u;
    while (parent.get(c) !== r) {
      const next = parent.get(c)!;
      parent.set(c, r);
      c = next;
    }
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  for (const l of legs) parent.set(l.uuid, l.uuid);
  const byConference = new Map<string, string>();
  for (const l of legs) {
    if (l.partner && parent.has(l.partner)) union(l.uuid, l.partner);
    if (l.conference) {
      const first = byConference.get(l.conference);
      if (first) union(first, l.uuid);
      else byConference.set(l.conference, l.uuid);
    }
  }
  const groups = new Map<string, PlanLeg[]>();
  for (const l of legs) {
    const r = find(l.uuid);
    const g = groups.get(r);
    if (g) g.push(l);
    else groups.set(r, [l]);
  }
  return [...groups.values()].map((g) => {
    const sorted = [...g].sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
    return {
      id: sorted[0]!.uuid,
      legs: sorted.map((l) => l.uuid),
      profiles: [...new Set(sorted.map((l) => l.profile))].sort(),
      conference: sorted.find((l) => l.conference)?.conference ?? null,
      target: null,
      reason: null,
    };
  });
}
