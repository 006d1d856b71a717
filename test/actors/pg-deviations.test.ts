import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pgDeviations } from '../../actors/pg/deviations.ts';
import { pgControllerActor } from '../../actors/pg/pg-controller-actor.ts';
import type { PgClusterStatus } from '../../actors/pg/protocol.ts';
import { publicMessages } from '../../src/actor-system/kind.ts';
import { pgServer } from '../support/pg-status.ts';

/** The PostgreSQL controller's deviations for the system state, read off its status (no PostgreSQL needed). */

const NOW = '2026-12-07T01:00:00.000Z';
const SOURCE = '/pg/general/controller';

function status(o: Partial<PgClusterStatus>): PgClusterStatus {
  return {
    key: 'general',
    phase: 'watching',
    reason: null,
    primary: 'pg1:5432',
    epoch: 3,
    referee: null,
    servers: [pgServer('pg1:5432', 'primary'), pgServer('pg2:5432', 'standby', 1_000)],
    history: [],
    ...o,
  };
}

const brief = (s: PgClusterStatus) =>
  pgDeviations(s, SOURCE, NOW).map((d) => [d.kind, d.severity, d.message]);

describe('the PostgreSQL controller’s deviations', () => {
  it('is none while it watches a primary and its streaming standby', () => {
    assert.deepEqual(pgDeviations(status({}), SOURCE, NOW), []);
    assert.deepEqual(pgDeviations(status({ phase: 'starting' }), SOURCE, NOW), []);
  });

  it('reports no primary and isolation as critical, work under way as a warning, with the reason in details', () => {
    const none = pgDeviations(
      status({ phase: 'no-primary', reason: 'waiting out the confirmation window' }),
      SOURCE,
      NOW,
    );
    assert.deepEqual(none, [
      {
        source: SOURCE,
        kind: 'pg-no-primary',
        severity: 'critical',
        since: NOW,
        message: 'PostgreSQL cluster general has no primary',
        details: { reason: 'waiting out the confirmation window' },
      },
    ]);
    assert.deepEqual(brief(status({ phase: 'isolated', reason: 'referee 10.0.0.9 unreachable' })), [
      [
        'pg-isolated',
        'critical',
        'PostgreSQL cluster general: the referee is out of reach, nothing is promoted',
      ],
    ]);
    assert.deepEqual(brief(status({ phase: 'failing-over', reason: 'pg1 lost' })), [
      ['pg-failing-over', 'warning', 'PostgreSQL cluster general is failing-over'],
    ]);
    // The reason changes as the work goes on; the message (part of the deviation's key) does not.
    const a = pgDeviations(status({ phase: 'rejoining', reason: 'pg_rewind' }), SOURCE, NOW)[0];
    const b = pgDeviations(status({ phase: 'rejoining', reason: 'starting as standby' }), SOURCE, NOW)[0];
    assert.equal(a?.message, b?.message);
  });

  it('reports a server down with its error, and one missing its pre-configuration', () => {
    const down = { ...pgServer('pg2:5432', 'down'), error: 'connection refused' };
    const bare = { ...pgServer('pg3:5432', 'standby', 0), problems: ['wal_log_hints is off'] };
    const ds = pgDeviations(status({ servers: [pgServer('pg1:5432', 'primary'), down, bare] }), SOURCE, NOW);
    assert.deepEqual(
      ds.map((d) => [d.kind, d.message, d.details]),
      [
        ['pg-server-down', 'PostgreSQL server pg2:5432 of general is down', { error: 'connection refused' }],
        [
          'pg-server-preconfig',
          'PostgreSQL server pg3:5432 of general lacks its pre-configuration',
          { problems: ['wal_log_hints is off'] },
        ],
      ],
    );
  });

  it('is a public message of the controller’s kind, which is how the system state finds it outside /services', () => {
    assert.equal(publicMessages(pgControllerActor.kind).get('deviations')?.scope, 'read');
  });
});
