import type { Deviation } from '../../src/monitor/deviation.ts';
import type { PgClusterStatus } from './protocol.ts';

/**
 * The PostgreSQL controller's deviations for the system state (its `deviations` message), read off its status: a
 * cluster without a primary or cut off from its referee (critical), a failover, rejoin, switchover or start-up
 * repair under way, a server down, a server missing its pre-configuration (warnings). Reasons and errors go to
 * `details`: the message stays the same while the deviation holds.
 */
export function pgDeviations(s: PgClusterStatus, source: string, now: string): Deviation[] {
  const out: Deviation[] = [];
  const add = (
    kind: string,
    severity: Deviation['severity'],
    message: string,
    details?: Record<string, unknown>,
  ) => out.push({ source, kind, severity, since: now, message, ...(details && { details }) });
  const why = s.reason === null ? undefined : { reason: s.reason };
  switch (s.phase) {
    case 'starting':
    case 'watching':
      break;
    case 'no-primary':
      add('pg-no-primary', 'critical', `PostgreSQL cluster ${s.key} has no primary`, why);
      break;
    case 'isolated':
      add(
        'pg-isolated',
        'critical',
        `PostgreSQL cluster ${s.key}: the referee is out of reach, nothing is promoted`,
        why,
      );
      break;
    case 'failing-over':
    case 'rejoining':
    case 'switching-over':
    case 'repairing':
      add(`pg-${s.phase}`, 'warning', `PostgreSQL cluster ${s.key} is ${s.phase}`, why);
      break;
    default: {
      const never: never = s.phase;
      return never;
    }
  }
  for (const server of s.servers) {
    if (server.role === 'down')
      add('pg-server-down', 'warning', `PostgreSQL server ${server.name} of ${s.key} is down`, {
        ...(server.error !== null && { error: server.error }),
      });
    if (server.problems.length > 0)
      add(
        'pg-server-preconfig',
        'warning',
        `PostgreSQL server ${server.name} of ${s.key} lacks its pre-configuration`,
        {
          problems: server.problems,
        },
      );
  }
  return out;
}
