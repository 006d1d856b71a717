import { serializeError } from '../../src/errors.ts';
import type { Probe } from '../../topology/schema.ts';
import { ProbeMismatch } from './errors.ts';
import { httpJsonProbe } from './probe-http-json.ts';
import { snmpGetProbe } from './probe-snmp-get.ts';
import { tcpProbe } from './probe-tcp.ts';

/**
 * A probe asks one target one question (can I connect, what does this JSON status say, what is this OID) and never
 * throws: an unreachable or wrong target is an answer, `ok: false` with a stable code. Monitors decide what a run
 * of answers means.
 */

export type ProbeResult =
  { ok: true; value: unknown; ms: number } | { ok: false; code: string; error: string; ms: number };

export interface ProbeRunner {
  /** The target in words, never a secret: `tcp 127.0.0.5:2944`, `http-json http://127.0.0.5:7070/active`. */
  readonly target: string;
  run(): Promise<ProbeResult>;
}

/** What a probe kind implements: the value it read, or a thrown MwareError. */
export type ProbeRead = () => Promise<unknown>;

/** The runner for a configured probe. */
export function probeRunner(probe: Probe): ProbeRunner {
  switch (probe.type) {
    case 'tcp':
      return runner(`tcp ${probe.host}:${probe.port}`, tcpProbe(probe));
    case 'http-json':
      return runner(`http-json ${safeUrl(probe.url)}`, httpJsonProbe(probe), probe.expect);
    case 'snmp-get':
      return runner(`snmp-get ${probe.host}:${probe.port} ${probe.oid}`, snmpGetProbe(probe), probe.expect);
    default: {
      const never: never = probe;
      return never;
    }
  }
}

function runner(target: string, read: ProbeRead, expect?: string | number | boolean): ProbeRunner {
  return {
    target,
    run: async () => {
      const start = performance.now();
      const ms = () => Math.round(performance.now() - start);
      try {
        const value = await read();
        if (expect !== undefined && String(value) !== String(expect))
          throw new ProbeMismatch(`${target}: got ${show(value)}, expected ${show(expect)}`);
        return { ok: true, value, ms: ms() };
      } catch (err) {
        const e = serializeError(err);
        return { ok: false, code: e.code, error: e.message, ms: ms() };
      }
    },
  };
}

/** A URL as monitors show it: without user-info (it may hold a password) or query (it may hold a token). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(bad URL)';
  }
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
