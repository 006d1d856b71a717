import type { InspectionEvent, ServiceNotice } from '../../src/supervision/events.ts';

/**
 * Which of mware's own notices become traps (`mwareAlarmTrap`): those at level `warn` or `error` from
 *  - `pg`: the PostgreSQL controller (a failover, a failed promotion, a lost standby — actors/pg),
 *  - `backup`: the backup controller (`run-failed` — actors/backup),
 *  - `freeswitch`: the migrator (a host lost, a migration that failed or lost calls — actors/freeswitch),
 *  - `cluster`: a group whose active was lost, told by the member that took over (src/node/node.ts),
 *  - `monitor`: the monitors (a global name missing or doubled, a MEGACO link down, FSYNC lagging, a SIP gateway
 *    lost and its registrations deleted — actors/monitors),
 *  - `acme`: the certificate service (a certificate near expiry or expired, a renewal that failed — actors/acme).
 * Info notices (a backup started, a planned switchover) are not alarms.
 */
export const ALARM_TOPICS: ReadonlySet<string> = new Set([
  'pg',
  'backup',
  'freeswitch',
  'cluster',
  'monitor',
  'acme',
]);

export type AlarmNotice = ServiceNotice & { path: string; at: number };

/** The event as an alarm to trap, or undefined when it is not one. */
export function alarmOf(e: InspectionEvent): AlarmNotice | undefined {
  if (e.type !== 'notice') return undefined;
  if (e.level !== 'warn' && e.level !== 'error') return undefined;
  return ALARM_TOPICS.has(e.topic) ? e : undefined;
}
