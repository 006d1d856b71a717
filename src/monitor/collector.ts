import { serializeError } from '../errors.ts';
import type { Clock } from '../supervision/clock.ts';
import type { Deviation } from './deviation.ts';
import type { LocalSources } from './local-deviations.ts';
import { localDeviations } from './local-deviations.ts';
import type { NodeDeviations, SystemState } from './schemas.ts';
import { NodeDeviationsSchema } from './schemas.ts';
import { SinceTracker } from './since-tracker.ts';

/**
 * The system state (06-services.md "Monitoring services"): every node of every site asked for its own deviations
 * at once (over the node channel, `{op: 'deviations'}`), plus what only the asking node can tell — a node that
 * does not answer, a group none of whose members answers as active. Empty means healthy.
 *
 * `since` is kept where a deviation is found: a node's own ones by that node ({@link NodeMonitor}), so they read
 * the same whichever node collects; the cluster-wide ones by the collecting node. Concurrent requests share one
 * collection, so a burst of API calls and the Telegram bot's poll cost one round.
 */

/** How long each peer is given to answer; all are asked at once. */
export const PEER_TIMEOUT_MS = 3_000;

type Role = NodeDeviations['role'];

/** One node's own report, its deviations' `since` kept across calls. */
export class NodeMonitor {
  private readonly tracker = new SinceTracker();
  private running: Promise<NodeDeviations> | undefined;

  constructor(private readonly o: LocalSources & { group: number; role: () => Role; state: () => string }) {}

  report(): Promise<NodeDeviations> {
    this.running ??= this.build().finally(() => (this.running = undefined));
    return this.running;
  }

  private async build(): Promise<NodeDeviations> {
    const deviations = this.tracker.stamp(await localDeviations(this.o));
    return {
      node: this.o.node,
      site: this.o.site,
      group: this.o.group,
      role: this.o.role(),
      state: this.o.state(),
      deviations,
    };
  }
}

export interface NodeEntry {
  name: string;
  group: number;
  site: string;
}

export interface CollectorOptions {
  cluster: string;
  self: string;
  /** Every mware node of the topology, this one included, in the file's order. */
  nodes: () => readonly NodeEntry[];
  local: () => Promise<NodeDeviations>;
  /** Runs `{op: 'deviations'}` on node `name`; rejects when it cannot be reached in time. */
  askPeer: (name: string, timeoutMs: number) => Promise<unknown>;
  clock: Clock;
  scrub: (text: string) => string;
  peerTimeoutMs?: number;
}

export class SystemStateCollector {
  private readonly tracker = new SinceTracker();
  private running: Promise<SystemState> | undefined;

  constructor(private readonly o: CollectorOptions) {}

  collect(): Promise<SystemState> {
    this.running ??= this.build().finally(() => (this.running = undefined));
    return this.running;
  }

  private async build(): Promise<SystemState> {
    const o = this.o;
    const now = new Date(o.clock.wallNow()).toISOString();
    const nodes = o.nodes();
    const reports = await Promise.all(
      nodes.map(async (n): Promise<NodeDeviations | Deviation> => {
        try {
          if (n.name === o.self) return await o.local();
          const answer = NodeDeviationsSchema.parse(
            await o.askPeer(n.name, o.peerTimeoutMs ?? PEER_TIMEOUT_MS),
          );
          // A node reports its own deviations only: they are named by the topology's name and site for it.
          return {
            ...answer,
            node: n.name,
            site: n.site,
            deviations: answer.deviations.map((d) => ({ ...d, node: n.name, site: n.site })),
          };
        } catch (err) {
          const e = serializeError(err);
          return {
            source: 'cluster',
            kind: 'node-unreachable',
            severity: 'critical',
            since: now,
            message: `node ${n.name} (group ${n.group}) does not answer`,
            node: n.name,
            site: n.site,
            details: { code: e.code, error: o.scrub(e.message) },
          };
        }
      }),
    );
    const answered = reports.filter((r): r is NodeDeviations => 'deviations' in r);
    const unreachable = reports.filter((r): r is Deviation => !('deviations' in r));
    const cluster = this.tracker.stamp([...unreachable, ...inactiveGroups(nodes, answered, now)]);
    const deviations = [...answered.flatMap((r) => r.deviations), ...cluster].sort(bySeverity);
    const roleOf = new Map(answered.map((r) => [r.node, r.role]));
    return {
      cluster: o.cluster,
      collected_by: o.self,
      collected_at: now,
      healthy: deviations.length === 0,
      deviations,
      nodes: nodes.map((n) => ({
        name: n.name,
        site: n.site,
        group: n.group,
        role: roleOf.get(n.name) ?? 'unknown',
        reachable: roleOf.has(n.name),
      })),
    };
  }
}

/** Groups none of whose answering members is active (the unanswering ones are deviations of their own). */
function inactiveGroups(
  nodes: readonly NodeEntry[],
  answered: readonly NodeDeviations[],
  now: string,
): Deviation[] {
  const groups = new Map<number, NodeEntry[]>();
  for (const n of nodes) groups.set(n.group, [...(groups.get(n.group) ?? []), n]);
  const active = new Set(answered.filter((r) => r.role === 'active').map((r) => r.group));
  const reached = new Set(answered.map((r) => r.node));
  return [...groups]
    .filter(([group]) => !active.has(group))
    .map(([group, members]) => ({
      source: 'cluster',
      kind: 'group-inactive',
      severity: 'critical' as const,
      since: now,
      message: `group ${group} has no active instance`,
      site: members[0]?.site ?? '',
      details: {
        members: members.map((m) => m.name),
        unreachable: members.filter((m) => !reached.has(m.name)).map((m) => m.name),
      },
    }));
}

function bySeverity(a: Deviation, b: Deviation): number {
  const rank = (d: Deviation) => (d.severity === 'critical' ? 0 : 1);
  return (
    rank(a) - rank(b) ||
    (a.node ?? '').localeCompare(b.node ?? '') ||
    a.source.localeCompare(b.source) ||
    a.kind.localeCompare(b.kind)
  );
}
