// PostgreSQL failover, side by side: the same measurement client (./client.ts) against each subject (./subject.ts)
// — Debian's Patroni 3.0 with etcd 3.4 at its default settings and at the tightest its documentation allows
// (./patroni.ts), and mware's pg_controller (./mware.ts, when it exists) — on the same kind of PostgreSQL 15 pair,
// in the same run. For each subject and each failure kind (the primary's postmaster SIGKILLed on a live host; the
// primary's host lost), TRIALS trials: kill instant → first write committed by any server of the pair, with no
// acknowledged write lost and never two servers taking writes. Then the ratios.
//
// Usage: node --import tsx bench/pg-failover/run.ts [subject …]   (subjects: patroni-default patroni-tuned mware;
// without any, all three, mware only if bench/pg-failover/mware.ts exists), or `node bench/run.mjs pg-failover`
// (subjects then from PG_FAILOVER_SUBJECTS, space- or comma-separated). PG_FAILOVER_TRIALS (default 3) and
// PG_FAILOVER_KINDS (postmaster-kill,host-lost) narrow a run. Takes about 6 minutes for the two Patroni subjects.
// Progress goes to stderr; figures to stdout. Everything started here is killed however the run ends.
import { existsSync } from 'node:fs';
import { fmt, median, report } from '../stats.ts';
import { failoverTrial } from './client.ts';
import type { TrialResult } from './client.ts';
import { PATRONI_DEFAULTS, PATRONI_TUNED, PatroniSubject } from './patroni.ts';
import type { FailoverSubject, FailureKind } from './subject.ts';
import { FAILURE_KINDS, FAILURE_LABEL } from './subject.ts';

const TRIALS = Number(process.env.PG_FAILOVER_TRIALS ?? 3);
const KINDS = (process.env.PG_FAILOVER_KINDS?.split(',') ?? FAILURE_KINDS) as FailureKind[];
/** After the first commit the client keeps writing through every server this long, looking for a second writer. */
const HOLD_MS = Number(process.env.PG_FAILOVER_HOLD_MS ?? 3_000);

const began = performance.now();
const progress = (m: string) =>
  console.error(`[pg-failover ${fmt((performance.now() - began) / 1000, 1).padStart(6)} s] ${m}`);

type Log = (m: string) => void;
/** `bench/pg-failover/mware.ts` exports `createSubject(log): FailoverSubject` (log: progress lines, optional). */
const MWARE_MODULE = new URL('./mware.ts', import.meta.url);
const SUBJECTS: Record<string, (log: Log) => Promise<FailoverSubject>> = {
  'patroni-default': (log) => Promise.resolve(new PatroniSubject('patroni-default', PATRONI_DEFAULTS, log)),
  'patroni-tuned': (log) => Promise.resolve(new PatroniSubject('patroni-tuned', PATRONI_TUNED, log)),
  mware: async (log) => {
    const spec: string = MWARE_MODULE.href; // not resolved by tsc: the file may not exist yet
    const m = (await import(spec)) as {
      createSubject?: (log: Log) => FailoverSubject | Promise<FailoverSubject>;
    };
    if (typeof m.createSubject !== 'function') throw new Error(`${spec} exports no createSubject(log)`);
    return m.createSubject(log);
  },
};

for (const k of KINDS)
  if (!FAILURE_KINDS.includes(k)) {
    console.error(`unknown failure kind ${k} (known: ${FAILURE_KINDS.join(', ')})`);
    process.exit(2);
  }
const named = process.argv.slice(2).length
  ? process.argv.slice(2)
  : (process.env.PG_FAILOVER_SUBJECTS?.split(/[\s,]+/).filter(Boolean) ?? []);
const chosen = named.length
  ? named
  : Object.keys(SUBJECTS).filter((n) => n !== 'mware' || existsSync(MWARE_MODULE));
for (const n of chosen) {
  if (!SUBJECTS[n]) {
    console.error(`unknown subject ${n} (known: ${Object.keys(SUBJECTS).join(', ')})`);
    process.exit(2);
  }
  if (n === 'mware' && !existsSync(MWARE_MODULE)) {
    console.error(`subject mware: ${MWARE_MODULE.pathname} does not exist yet`);
    process.exit(2);
  }
}
if (!named.length && !chosen.includes('mware'))
  console.log('(mware subject absent: bench/pg-failover/mware.ts not written yet; Patroni only)');

/** What must be stopped however the run ends (Ctrl-C included). */
let live: FailoverSubject | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    progress(`${sig}: stopping every process`);
    void (live?.teardown() ?? Promise.resolve()).finally(() => process.exit(130));
  });

interface Figure {
  subject: string;
  kind: FailureKind;
  trials: TrialResult[];
  failures: string[];
}
const figures: Figure[] = [];

async function runSubject(name: string): Promise<void> {
  const factory = SUBJECTS[name];
  if (!factory) return;
  const subject = await factory(progress);
  live = subject;
  try {
    progress(`${name}: setting up (${subject.describe()})`);
    await subject.setup();
    let first = true;
    for (const kind of KINDS) {
      const fig: Figure = { subject: name, kind, trials: [], failures: [] };
      figures.push(fig);
      for (let i = 1; i <= TRIALS; i++) {
        if (!first) await subject.restoreAfterTrial();
        first = false;
        try {
          const primary = await subject.primary();
          const trigger = await subject.arm(kind);
          const r = await failoverTrial(
            { endpoints: subject.endpoints(), ...subject.connection?.(), holdMs: HOLD_MS },
            primary,
            trigger,
          );
          progress(
            `${name}, ${kind}, trial ${i}: ${Number.isNaN(r.ms) ? 'no write committed' : `${fmt(r.ms)} ms`}, ` +
              `${r.before} → ${r.after ?? '-'}, writes ${r.writesBefore} before (${r.late} late) / ${r.writesAfter} after` +
              (r.violations.length ? `; VIOLATIONS: ${r.violations.join(' | ')}` : ''),
          );
          if (Number.isNaN(r.ms)) fig.failures.push(`trial ${i}: no write committed`);
          fig.trials.push(r);
        } catch (e) {
          const tails = (subject as { tails?: () => string }).tails?.() ?? '';
          progress(`${name}, ${kind}, trial ${i} failed: ${String(e)}\n${tails}`);
          fig.failures.push(`trial ${i}: ${String(e).split('\n')[0]}`);
        }
      }
      printFigure(fig);
    }
  } finally {
    progress(`${name}: tearing down`);
    await subject.teardown();
    live = undefined;
  }
}

function printFigure(f: Figure): void {
  const ok = f.trials.filter((t) => !Number.isNaN(t.ms));
  const ms = ok.map((t) => t.ms);
  const inPlace = ok.filter((t) => t.after === t.before).length;
  const lost = f.trials.reduce((s, t) => s + t.lost, 0);
  const twoWriters = f.trials.filter((t) => t.writers.length > 1).length;
  const violations = f.trials.filter((t) => t.violations.length > 0).length;
  const tuned = figures.find((x) => x.subject === 'patroni-tuned' && x.kind === f.kind);
  const tunedMs = tuned ? median(tuned.trials.filter((t) => !Number.isNaN(t.ms)).map((t) => t.ms)) : NaN;
  const isMware = f.subject === 'mware';
  report(
    `pg failover, ${f.subject}, ${FAILURE_LABEL[f.kind]}: kill → first committed write (median of ${ms.length} trials${f.failures.length ? `, ${f.failures.length} failed` : ''}, min–max)`,
    ms.length
      ? `${fmt(median(ms))} ms (${fmt(Math.min(...ms))}–${fmt(Math.max(...ms))}); new primary: same server ${inPlace} / other ${ms.length - inPlace}; ` +
          `acknowledged writes lost ${lost}, trials with two writers ${twoWriters}, with any violation ${violations}`
      : 'no trial succeeded',
    isMware && !Number.isNaN(tunedMs) ? `< patroni-tuned ${fmt(tunedMs)} ms, no false promotion` : undefined,
    isMware && !Number.isNaN(tunedMs)
      ? f.failures.length === 0 && violations === 0 && median(ms) < tunedMs
      : undefined,
  );
  for (const x of f.failures) console.log(`  failed ${x}`);
  for (const t of f.trials) for (const v of t.violations) console.log(`  violation: ${v}`);
}

function printRatios(): void {
  const subjects = [...new Set(figures.map((f) => f.subject))];
  if (subjects.length < 2) return;
  const med = (s: string, k: FailureKind) => {
    const f = figures.find((x) => x.subject === s && x.kind === k);
    const ms = f?.trials.filter((t) => !Number.isNaN(t.ms)).map((t) => t.ms) ?? [];
    return ms.length ? median(ms) : NaN;
  };
  // Ratios against mware when it ran (how many times longer the other takes), else against the fastest Patroni.
  const ref = subjects.includes('mware') ? 'mware' : (subjects[subjects.length - 1] as string);
  const others = subjects.filter((s) => s !== ref);
  console.log(`\npg failover, medians (ms) and ratios (subject / ${ref}: > 1 means ${ref} is faster):`);
  console.log(`| failure | ${subjects.join(' | ')} | ${others.map((o) => `${o} / ${ref}`).join(' | ')} |`);
  console.log(`|---|${subjects.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`);
  for (const k of KINDS) {
    const r = med(ref, k);
    console.log(
      `| ${FAILURE_LABEL[k]} | ${subjects.map((s) => fmt(med(s, k))).join(' | ')} | ${others.map((o) => `${fmt(med(o, k) / r, 2)}×`).join(' | ')} |`,
    );
  }
}

try {
  for (const name of chosen) {
    try {
      await runSubject(name);
    } catch (e) {
      progress(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      console.log(`pg failover, ${name}: FAILED (${String(e).split('\n')[0]})`);
      process.exitCode = 1;
    }
  }
  printRatios();
  if (figures.some((f) => f.failures.length || f.trials.some((t) => t.violations.length)))
    process.exitCode = 1;
} finally {
  progress('done');
}
