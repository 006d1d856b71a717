import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TestCluster } from './cluster.ts';
import { CLUSTER_ENV } from './cluster.ts';
import { HarnessError } from './errors.ts';
import type { NodeProcess } from './node.ts';
import { startNodeProcess } from './node.ts';
import { until } from './poll.ts';
import { tempDir } from './temp.ts';

/**
 * The mware nodes of a {@link TestCluster} as real processes, started by role name as an operator would
 * (`mware start --role`), with what cluster tests and benchmarks ask of them: who is active, an authenticated call,
 * a wait that shows every node's last lines when it fails, and a stop that leaves no process behind (a SIGSTOPped
 * node is continued first, so it can die).
 */

export interface JsonReply {
  status: number;
  body: Record<string, unknown>;
}

const AUTH = {
  authorization: `Bearer ${CLUSTER_ENV.MWARE_TEST_ADMIN_TOKEN}`,
  'content-type': 'application/json',
};

export class ClusterNodes {
  readonly file: string;
  private readonly nodes = new Map<string, NodeProcess>();
  private readonly dir = tempDir('cluster');

  constructor(
    readonly cluster: TestCluster,
    private readonly o: { logLevel?: string } = {},
  ) {
    this.file = join(this.dir.path, 'cluster.yaml');
    writeFileSync(this.file, stringify(cluster.topology));
  }

  /** Starts member `name` (again, after it exited: its previous process's files are removed first). */
  start(name: string): NodeProcess {
    const old = this.nodes.get(name);
    if (old?.process.running) throw new HarnessError(`${name} is already running`);
    old?.cleanup();
    const n = startNodeProcess({
      topology: this.file,
      role: name,
      env: { ...CLUSTER_ENV, MWARE_LOG_LEVEL: this.o.logLevel ?? 'info' },
    });
    this.nodes.set(name, n);
    return n;
  }

  node(name: string): NodeProcess {
    const n = this.nodes.get(name);
    if (!n) throw new HarnessError(`${name} was never started`);
    return n;
  }

  url(name: string): string {
    return this.cluster.url(name);
  }

  /** `GET /active` answers 200: `name` is its group's active instance now. */
  async activeAt(name: string, timeoutMs = 2_000): Promise<boolean> {
    const r = await fetch(this.url(name) + '/active', { signal: AbortSignal.timeout(timeoutMs) });
    await r.body?.cancel();
    return r.status === 200;
  }

  /** The members of `group` active now (by `GET /active`; a node that does not answer is not active). */
  async activeOf(group: number): Promise<string[]> {
    const names = this.cluster.members.filter((m) => m.group === group).map((m) => m.name);
    const active = await Promise.all(names.map((n) => this.activeAt(n).catch(() => false)));
    return names.filter((_, i) => active[i]);
  }

  get(name: string, path: string): Promise<JsonReply> {
    return this.call(name, 'GET', path);
  }

  post(name: string, path: string, body: unknown): Promise<JsonReply> {
    return this.call(name, 'POST', path, body);
  }

  /** Polls until `fn` holds; on failure the message carries every node's last lines. */
  until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
    return until(what, fn, { ms, detail: () => this.tails() });
  }

  /**
   * Waits until `group` has exactly one active member and every other member is ready and sees it, over the node
   * channel, as the active one with a heartbeat; returns the active's name and the others'.
   */
  async settled(group: number, ms = 60_000): Promise<{ active: string; passive: string[] }> {
    let active = '';
    const names = this.cluster.members.filter((m) => m.group === group).map((m) => m.name);
    await this.until(
      `group ${group} settled: one active, the others passive and hearing from it`,
      async () => {
        const now = await this.activeOf(group);
        if (now.length !== 1) return false;
        active = now[0] as string;
        for (const n of names) {
          const c = (await this.get(n, '/api/v1/cluster')).body as {
            active?: string;
            members?: { last_heartbeat_ms: number | null }[];
          };
          if (c.active !== active || !c.members?.every((m) => m.last_heartbeat_ms !== null)) return false;
        }
        return true;
      },
      ms,
    );
    return { active, passive: names.filter((n) => n !== active) };
  }

  tails(n = 20): string {
    return [...this.nodes].map(([name, p]) => `--- ${name}\n${p.process.tail(n)}`).join('\n');
  }

  /** Kills every node (continued first if stopped) and removes their files. */
  async stop(): Promise<void> {
    for (const n of this.nodes.values()) {
      n.process.signal('SIGCONT');
      await n.process.stop('SIGKILL');
      n.cleanup();
    }
    this.nodes.clear();
    this.dir.cleanup();
  }

  private async call(name: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<JsonReply> {
    const res = await fetch(this.url(name) + path, {
      method,
      headers: AUTH,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
}
