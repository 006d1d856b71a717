import pg from 'pg';

/**
 * The `recovery` table, with FreeSWITCH's own SQL (src/switch_core_sqldb.c, v1.10.12). Every statement here is
 * the one FreeSWITCH runs, so row-level security installed by mware applies to the simulator as it would to a
 * real FreeSWITCH (the connection carries application_name=<switchname>).
 */

/** switch_core_sqldb.c:3068 — no primary key. */
export const RECOVERY_DDL = `CREATE TABLE recovery (
   runtime_uuid    VARCHAR(255),
   technology      VARCHAR(255),
   profile_name    VARCHAR(255),
   hostname        VARCHAR(255),
   uuid            VARCHAR(255),
   metadata        text
);
`;

/** switch_core_sqldb.c:3639-3642. */
export const RECOVERY_INDEXES = [
  'create index recovery1 on recovery(technology)',
  'create index recovery2 on recovery(profile_name)',
  'create index recovery3 on recovery(uuid)',
  'create index recovery4 on recovery(runtime_uuid)',
];

export interface RecoveryRow {
  technology: string;
  profile_name: string;
  hostname: string;
  uuid: string;
  metadata: string;
}

export interface NewRow {
  runtimeUuid: string;
  profile: string;
  hostname: string;
  uuid: string;
  metadata: string;
}

/** One host's core-DB handle. */
export class RecoverySql {
  private readonly pool: pg.Pool;

  constructor(connectionString: string, switchname: string) {
    this.pool = new pg.Pool({ connectionString, application_name: switchname, max: 4 });
    // A dropped connection (the test stopped PostgreSQL) must not crash the test process.
    this.pool.on('error', () => undefined);
  }

  /**
   * switch_cache_db_test_reactive (switch_core_sqldb.c:3638): `select hostname from recovery` and, only if that
   * fails, create the table; then the indexes (switch_cache_db_create_schema ignores "already exists").
   */
  async ensureTable(): Promise<void> {
    try {
      await this.pool.query('select hostname from recovery limit 0');
      return;
    } catch {
      // missing: create below
    }
    try {
      await this.pool.query(RECOVERY_DDL);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P07' && (err as { code?: string }).code !== '23505')
        throw err;
    }
    for (const sql of RECOVERY_INDEXES) await this.pool.query(sql).catch(() => undefined);
  }

  /**
   * switch_core_recovery_track, first time (switch_core_sqldb.c:3448):
   * `insert into recovery (runtime_uuid, technology, profile_name, hostname, uuid, metadata) values (…)`.
   * Many rows go in one statement so that thousands of calls can be placed in seconds.
   */
  async insert(rows: readonly NewRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: string[] = [];
      const values = chunk.map((r) => {
        const b = params.length;
        params.push(r.runtimeUuid, 'sofia', r.profile, r.hostname, r.uuid, r.metadata);
        return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6})`;
      });
      await this.pool.query(
        `insert into recovery (runtime_uuid, technology, profile_name, hostname, uuid, metadata) values ${values.join(',')}`,
        params,
      );
    }
  }

  /** switch_core_recovery_track, tracked already (switch_core_sqldb.c:3446). */
  async update(uuid: string, metadata: string): Promise<void> {
    await this.pool.query('update recovery set metadata=$1 where uuid=$2', [metadata, uuid]);
  }

  /** switch_core_recovery_untrack(force=TRUE) from the hangup (switch_core_state_machine.c:134 → sqldb.c:3401). */
  async deleteByUuid(uuid: string): Promise<void> {
    await this.pool.query('delete from recovery where uuid=$1', [uuid]);
  }

  /** switch_core_recovery_recover's select (switch_core_sqldb.c:3288-3310). */
  async select(coreUuid: string, technology?: string, profile?: string): Promise<RecoveryRow[]> {
    const base = 'select technology, profile_name, hostname, uuid, metadata from recovery where ';
    const r =
      technology === undefined
        ? profile === undefined
          ? await this.pool.query<RecoveryRow>(`${base}runtime_uuid!=$1`, [coreUuid])
          : await this.pool.query<RecoveryRow>(`${base}runtime_uuid!=$1 and profile_name=$2`, [
              coreUuid,
              profile,
            ])
        : profile === undefined
          ? await this.pool.query<RecoveryRow>(`${base}technology=$1 and runtime_uuid!=$2`, [
              technology,
              coreUuid,
            ])
          : await this.pool.query<RecoveryRow>(
              `${base}technology=$1 and runtime_uuid!=$2 and profile_name=$3`,
              [technology, coreUuid, profile],
            );
    return r.rows;
  }

  /** switch_core_recovery_recover's clean-up (switch_core_sqldb.c:3323-3338): every selected row, recovered or not. */
  async deleteForeign(coreUuid: string, technology?: string, profile?: string): Promise<void> {
    if (technology === undefined) {
      if (profile === undefined)
        await this.pool.query('delete from recovery where runtime_uuid!=$1', [coreUuid]);
      else
        await this.pool.query('delete from recovery where runtime_uuid!=$1 and profile_name=$2', [
          coreUuid,
          profile,
        ]);
    } else if (profile === undefined) {
      await this.pool.query('delete from recovery where runtime_uuid!=$1 and technology=$2 ', [
        coreUuid,
        technology,
      ]);
    } else {
      await this.pool.query(
        'delete from recovery where runtime_uuid!=$1 and technology=$2 and profile_name=$3',
        [coreUuid, technology, profile],
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
