import { ActorNotFound } from './errors.ts';
import type { ChildRecord } from './child.ts';
import type { Clock } from './clock.ts';

/**
 * Path → child record, for every child of every supervisor of the node. Paths are stable across restarts; a
 * record is replaced when its supervisor is itself restarted, so callers resolve paths, not records.
 */
export class Directory {
  private readonly records = new Map<string, ChildRecord>();

  constructor(private readonly clock: Clock) {}

  register(r: ChildRecord): void {
    this.records.set(r.path, r);
  }

  unregister(r: ChildRecord): void {
    r.removed = true;
    if (this.records.get(r.path) === r) this.records.delete(r.path);
  }

  get(path: string): ChildRecord | undefined {
    return this.records.get(path);
  }

  get size(): number {
    return this.records.size;
  }

  all(): IterableIterator<ChildRecord> {
    return this.records.values();
  }

  /**
   * The record at `path`. When it is missing because an ancestor supervisor is (re)starting, waits (until
   * `timeoutMs`) for the ancestor to bring its children back instead of failing at once.
   */
  async resolve(path: string, timeoutMs: number): Promise<ChildRecord> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const r = this.records.get(path);
      if (r) return r;
      const ancestor = this.nearestAncestor(path);
      const left = deadline - this.clock.now();
      if (!ancestor || left <= 0 || (ancestor.state !== 'starting' && ancestor.state !== 'restarting')) {
        throw new ActorNotFound(`no actor at ${path}`);
      }
      await ancestor.nextChange(left);
    }
  }

  private nearestAncestor(path: string): ChildRecord | undefined {
    for (let p = parentPath(path); p !== undefined; p = parentPath(p)) {
      const r = this.records.get(p);
      if (r) return r;
    }
    return undefined;
  }
}

export function parentPath(path: string): string | undefined {
  const i = path.lastIndexOf('/');
  return i <= 0 ? undefined : path.slice(0, i);
}

/** Joins a supervisor path and a child id: `/` + `domains` → `/domains`. */
export function childPath(parent: string, id: string): string {
  return parent === '/' ? `/${id}` : `${parent}/${id}`;
}
