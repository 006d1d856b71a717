/**
 * The OIDs of MWARE-MIB (config/MWARE-MIB.txt), the one place code names them. mware has no IANA Private
 * Enterprise Number of its own: it uses 32473, the number IANA reserves for documentation and examples
 * (RFC 5612), so an operator who owns a PEN can load the MIB under it by changing one line here and in the MIB.
 */

/** `mware` ::= { enterprises 32473 1 } */
export const MWARE_OID = '1.3.6.1.4.1.32473.1';

/** Notifications (`mwareNotifications`, arc 0 so SNMPv1 proxies map them back cleanly, RFC 3584). */
export const TRAP = {
  /** A syslog message that matched a rule. */
  syslog: `${MWARE_OID}.0.1`,
  /** One of mware's own alarms (a notice at level warn or error from pg, backup, freeswitch). */
  alarm: `${MWARE_OID}.0.2`,
} as const;

/** Objects carried as varbinds (`mwareObjects`). */
export const VARBIND = {
  syslogHost: `${MWARE_OID}.1.1`,
  syslogProgram: `${MWARE_OID}.1.2`,
  syslogSeverity: `${MWARE_OID}.1.3`,
  syslogFacility: `${MWARE_OID}.1.4`,
  syslogMessage: `${MWARE_OID}.1.5`,
  syslogRule: `${MWARE_OID}.1.6`,
  alarmTopic: `${MWARE_OID}.1.10`,
  alarmEvent: `${MWARE_OID}.1.11`,
  alarmLevel: `${MWARE_OID}.1.12`,
  alarmMessage: `${MWARE_OID}.1.13`,
  alarmSource: `${MWARE_OID}.1.14`,
} as const;

/**
 * SNMPv3 engine ID format 4 (text, RFC 3411 SnmpEngineID) under the same enterprise: `80007ED9` `04` and the text.
 * Used when the topology gives no `engine_id`, so an operator can derive it for `createUser -e` from the role name.
 */
export function defaultEngineId(text: string): string {
  return `80007ED904${Buffer.from(text.slice(0, 27), 'utf8').toString('hex')}`;
}
