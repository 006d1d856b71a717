// No false failover, soaked: a group of two nodes with every core saturated by spinning processes and steady
// requests, for SOAK_SECONDS (default 600) — leadership must never change. The suite runs the same for 60 s.
import { noFalseFailover } from '../test/harness/cpu-hog.ts';
import { fmt, report } from './stats.ts';

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const r = await noFalseFailover({ seconds, progress: (s) => process.stderr.write(`soak: ${s}\n`) });
const held = r.actives.length === 1 && r.epochs[0] === r.epochs[1] && r.badSamples === 0;
report(
  `no false failover: ${fmt(seconds)} s, ${r.hogs} CPU hogs, steady asks to both members`,
  `active ${r.actives.join(' → ')}, epoch ${r.epochs.join(' → ')}, ${fmt(r.requests)} requests (${r.failed} failed), p99 ${fmt(r.p99Ms, 1)} ms`,
  'leadership never changes',
  held,
);
