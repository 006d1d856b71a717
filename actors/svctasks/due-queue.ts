/**
 * The scheduler's timetable: task ids by their next due time, a binary min-heap. A task re-armed or removed leaves
 * its old entry behind; an entry is live only while its generation is the task's current one (lazy deletion keeps
 * every change O(log n), which matters at 10,000 tasks).
 */
interface Due {
  at: number;
  id: string;
  gen: number;
}

export class DueQueue {
  private readonly heap: Due[] = [];
  private readonly gens = new Map<string, number>();

  get size(): number {
    return this.heap.length;
  }

  /** Sets `id` due at `at` (null: not due at all), replacing what it had. */
  set(id: string, at: number | null): void {
    const gen = (this.gens.get(id) ?? 0) + 1;
    this.gens.set(id, gen);
    if (at === null) return;
    this.heap.push({ at, id, gen });
    this.up(this.heap.length - 1);
  }

  remove(id: string): void {
    this.set(id, null);
    this.gens.delete(id);
  }

  /** The earliest live due time. */
  peek(): number | undefined {
    this.dropStale();
    return this.heap[0]?.at;
  }

  /** Takes every live entry due at or before `now`, earliest first. */
  takeDue(now: number): { id: string; at: number }[] {
    const out: { id: string; at: number }[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) return out;
      this.pop();
      this.gens.set(top.id, top.gen + 1);
      out.push({ id: top.id, at: top.at });
    }
  }

  private dropStale(): void {
    while (this.heap.length && this.heap[0]?.gen !== this.gens.get(this.heap[0]?.id ?? '')) this.pop();
  }

  private pop(): void {
    const last = this.heap.pop() as Due;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.down(0);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as Due).at <= (h[i] as Due).at) return;
      [h[p], h[i]] = [h[i] as Due, h[p] as Due];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && (h[l] as Due).at < (h[m] as Due).at) m = l;
      if (r < h.length && (h[r] as Due).at < (h[m] as Due).at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i] as Due, h[m] as Due];
      i = m;
    }
  }
}
