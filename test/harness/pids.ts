import { readdirSync, readFileSync } from 'node:fs';

/** Processes by parent, from /proc: what a harness kills to make a host vanish with everything it runs. */

/** The direct children of `parent`. */
export function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (field 2) is in parentheses and may hold spaces: the ppid is the 2nd field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** Every descendant of `root`, nearest first (not `root` itself). */
export function descendantsOf(root: number): number[] {
  const out: number[] = [];
  for (let queue = childrenOf(root); queue.length > 0;) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...childrenOf(pid));
  }
  return out;
}

/** True while `pid` runs: a zombie (exited, not yet reaped by its parent) has stopped running. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
