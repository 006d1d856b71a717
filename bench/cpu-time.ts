// CPU time a process and its live descendants have used, read from /proc (Linux): utime + stime of each, in
// seconds. Sampled twice, the difference over the wall time between is the share of one core it used.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux we run on, asked anyway). */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  ppid: number;
  ticks: number;
}

/** Fields of /proc/<pid>/stat after the command name, which is in parentheses and may hold spaces. */
function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid(1) … utime(11) stime(12), i.e. fields 14 and 15 of proc(5).
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

/** CPU seconds used so far by `pid` and every live process below it. */
export function cpuSeconds(pid: number): number {
  const all = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) all.set(Number(name), s);
  }
  const children = new Map<number, number[]>();
  for (const [p, s] of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), p]);
  let ticks = 0;
  for (const queue = [pid]; queue.length > 0;) {
    const p = queue.pop() as number;
    ticks += all.get(p)?.ticks ?? 0;
    queue.push(...(children.get(p) ?? []));
  }
  return ticks / TICKS;
}
