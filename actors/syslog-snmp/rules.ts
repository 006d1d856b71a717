import type { SyslogRule } from '../../topology/schema.ts';
import { SYSLOG_FACILITIES, SYSLOG_SEVERITIES } from '../../topology/schema.ts';
import { TRAP } from './oids.ts';
import type { SyslogMessage } from './syslog-message.ts';

/**
 * The topology's rules compiled once: names to numbers, regexes built. A message matches a rule when every
 * condition the rule gives holds; the first matching rule (in file order) names the trap.
 */

export interface CompiledRule {
  name: string;
  severityMax?: number;
  facility?: number;
  host?: string;
  program?: string;
  regex?: RegExp;
  trapOid: string;
}

export function compileRules(rules: readonly SyslogRule[]): CompiledRule[] {
  return rules.map((r) => ({
    name: r.name,
    ...(r.severity_max !== undefined && { severityMax: codeOf(r.severity_max, SYSLOG_SEVERITIES) }),
    ...(r.facility !== undefined && { facility: codeOf(r.facility, SYSLOG_FACILITIES) }),
    ...(r.host !== undefined && { host: r.host.toLowerCase() }),
    ...(r.program !== undefined && { program: r.program }),
    // topology/rules.ts has checked that it compiles.
    ...(r.regex !== undefined && { regex: new RegExp(r.regex) }),
    trapOid: r.trap_oid ?? TRAP.syslog,
  }));
}

function codeOf(v: number | string, names: readonly string[]): number {
  return typeof v === 'number' ? v : names.indexOf(v);
}

/** The first rule `m` matches, if any. */
export function matchRule(rules: readonly CompiledRule[], m: SyslogMessage): CompiledRule | undefined {
  return rules.find(
    (r) =>
      (r.severityMax === undefined || m.severity <= r.severityMax) &&
      (r.facility === undefined || m.facility === r.facility) &&
      (r.host === undefined || m.host.toLowerCase() === r.host) &&
      (r.program === undefined || m.program === r.program) &&
      (r.regex === undefined || r.regex.test(m.message)),
  );
}
